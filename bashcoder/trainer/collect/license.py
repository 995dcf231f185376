"""License classification: pure functions from license text to an SPDX id or expression.

Owns: recognising LICENSE/COPYING texts, Debian copyright files (machine
readable DEP-5 and the older free-form kind), `SPDX-License-Identifier:`
headers, and the permissive/allowed decision over SPDX expressions
("MIT OR GPL-2.0-only" is allowed when either side is). Finding the files is
the sources' job. Anything not recognised is "unknown", never a guess.
"""

from __future__ import annotations

import re

UNKNOWN = "unknown"

PERMISSIVE = frozenset(
    {"MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "0BSD", "Unlicense", "CC0-1.0"}
)
"""Licenses a corpus may use freely (the issue's list)."""

# Debian short names and common spellings -> SPDX ids. Keys are lower-case.
_ALIASES: dict[str, str] = {
    "expat": "MIT",
    "mit": "MIT",
    "mit/x11": "MIT",
    "x11": "X11",
    "apache-2.0": "Apache-2.0",
    "apache-2": "Apache-2.0",
    "apache 2.0": "Apache-2.0",
    "apache2": "Apache-2.0",
    "bsd-2-clause": "BSD-2-Clause",
    "bsd-3-clause": "BSD-3-Clause",
    "bsd-4-clause": "BSD-4-Clause",
    "isc": "ISC",
    "0bsd": "0BSD",
    "unlicense": "Unlicense",
    "cc0": "CC0-1.0",
    "cc0-1.0": "CC0-1.0",
    "public-domain": "LicenseRef-public-domain",
    "public domain": "LicenseRef-public-domain",
    "mpl-2.0": "MPL-2.0",
    "zlib": "Zlib",
    "bsl-1.0": "BSL-1.0",
    "wtfpl": "WTFPL",
    "artistic": "Artistic-1.0",
    "artistic-1.0": "Artistic-1.0",
    "artistic-2.0": "Artistic-2.0",
    "permissive": "LicenseRef-permissive",
}
_VERSIONED = {
    "gpl": ("GPL", {"1": "1.0", "2": "2.0", "3": "3.0"}),
    "lgpl": ("LGPL", {"2": "2.0", "2.1": "2.1", "3": "3.0"}),
    "agpl": ("AGPL", {"3": "3.0"}),
}
for _kind, (_spdx, _versions) in _VERSIONED.items():
    for _short, _full in _versions.items():
        for _v in (_short, _full):
            _ALIASES[f"{_kind}-{_v}"] = f"{_spdx}-{_full}-only"
            _ALIASES[f"{_kind}-{_v}+"] = f"{_spdx}-{_full}-or-later"
        _ALIASES[f"{_kind}-{_full}-only"] = f"{_spdx}-{_full}-only"
        _ALIASES[f"{_kind}-{_full}-or-later"] = f"{_spdx}-{_full}-or-later"
_ALIASES.update({"gpl": "GPL-1.0-or-later", "gpl+": "GPL-1.0-or-later", "lgpl": "LGPL-2.0-or-later"})
_ALIASES.update({k.lower(): k for k in PERMISSIVE})


def normalize_id(name: str) -> str:
    """The SPDX spelling of one license id ("Expat" -> "MIT", "GPL-2+" -> "GPL-2.0-or-later")."""
    clean = name.strip().strip("()").strip()
    return _ALIASES.get(clean.lower(), clean)


def normalize_expression(expr: str) -> str:
    """Normalise each id inside an SPDX-ish expression; Debian's lower-case `or`/`and` become OR/AND."""
    expr = " ".join(expr.replace(",", " ").split())
    if not expr:
        return UNKNOWN
    parts = re.split(r"\s+(or|and|OR|AND|with|WITH)\s+|([()])", expr)
    out: list[str] = []
    for part in parts:
        if part is None or not part.strip():
            continue
        if part.upper() in ("OR", "AND", "WITH"):
            out.append(part.upper())
        elif part in "()":
            out.append(part)
        else:
            out.append(normalize_id(part))
    return " ".join(out).replace("( ", "(").replace(" )", ")")


def _split_top(expr: str, op: str) -> list[str]:
    """Split on a top-level operator (outside parentheses)."""
    parts, depth, start = [], 0, 0
    tokens = expr.split(" ")
    for i, tok in enumerate(tokens):
        depth += tok.count("(") - tok.count(")")
        if depth == 0 and tok == op:
            parts.append(" ".join(tokens[start:i]))
            start = i + 1
    parts.append(" ".join(tokens[start:]))
    return [p.strip() for p in parts]


def _strip_parens(expr: str) -> str:
    while expr.startswith("(") and expr.endswith(")"):
        inner = expr[1:-1]
        depth = 0
        balanced = True
        for ch in inner:
            depth += ch == "("
            depth -= ch == ")"
            if depth < 0:
                balanced = False
                break
        if not balanced:
            break
        expr = inner.strip()
    return expr


def allowed(expr: str, extra: frozenset[str] | set[str] = frozenset()) -> bool:
    """Whether files under `expr` may be collected: permissive, or listed in `extra` (--allow-license).

    "A OR B" needs one side allowed, "A AND B" needs both, "A WITH exception"
    counts as A. "unknown" is allowed only when `extra` names it.
    """
    expr = _strip_parens(expr.strip())
    ok = PERMISSIVE | {normalize_id(e) for e in extra}
    lowered = {e.lower() for e in ok}
    alternatives = _split_top(expr, "OR")
    if len(alternatives) > 1:
        return any(allowed(a, extra) for a in alternatives)
    required = _split_top(expr, "AND")
    if len(required) > 1:
        return all(allowed(r, extra) for r in required)
    base = _split_top(expr, "WITH")[0]
    return normalize_id(base).lower() in lowered


# --- license texts --------------------------------------------------------------
def _squash(text: str) -> str:
    """Lower-case, punctuation-light, single-spaced text for phrase matching."""
    text = re.sub(r"[*#>|`\"'“”]", " ", text.lower())
    return " ".join(text.split())


def classify_text(text: str) -> str:
    """SPDX id of a LICENSE/COPYING text, or "unknown"."""
    header = spdx_header(text)
    if header:
        return header
    t = _squash(text)
    if "gnu affero general public license" in t:
        return "AGPL-3.0-only"
    if "gnu lesser general public license" in t or "gnu library general public license" in t:
        if "version 3" in t:
            return "LGPL-3.0-only"
        return "LGPL-2.1-only" if "version 2.1" in t else "LGPL-2.0-only"
    if "gnu general public license" in t:
        if "version 3" in t:
            return "GPL-3.0-only"
        if "version 2" in t:
            return "GPL-2.0-only"
        return "GPL-1.0-or-later"
    if "mozilla public license" in t and "2.0" in t:
        return "MPL-2.0"
    if "apache license" in t and "version 2.0" in t:
        return "Apache-2.0"
    if "this is free and unencumbered software released into the public domain" in t:
        return "Unlicense"
    if "cc0 1.0 universal" in t or ("creative commons" in t and "cc0" in t):
        return "CC0-1.0"
    if "permission is hereby granted, free of charge, to any person obtaining a copy" in t:
        return "MIT"
    if "permission to use, copy, modify, and/or distribute this software for any purpose" in t or (
        "permission to use, copy, modify, and distribute this software for any purpose" in t
        and "the software is provided as is and the author disclaims" in t
    ):
        if "provided that the above copyright notice" in t:
            return "ISC"
        return "0BSD"
    if "redistribution and use in source and binary forms" in t:
        if "all advertising materials" in t:
            return "BSD-4-Clause"
        if "neither the name" in t or "endorse or promote products" in t:
            return "BSD-3-Clause"
        return "BSD-2-Clause"
    if "boost software license" in t:
        return "BSL-1.0"
    if "do what the fuck you want to public license" in t:
        return "WTFPL"
    if (
        "this software is provided as-is, without any express or implied" in t
        and "altered source versions" in t
    ):
        return "Zlib"
    return UNKNOWN


_SPDX_LINE = re.compile(r"SPDX-License-Identifier:\s*([A-Za-z0-9.+\-() ]+?)\s*(?:\*/|-->|$)", re.M)


def spdx_header(text: str, max_lines: int = 30) -> str | None:
    """The expression of an `SPDX-License-Identifier:` line near the top, if any."""
    head = "\n".join(text.split("\n", max_lines)[:max_lines])
    m = _SPDX_LINE.search(head)
    if not m:
        return None
    expr = normalize_expression(m.group(1))
    return None if expr == UNKNOWN else expr


def combine(ids: list[str], alternatives: bool) -> str:
    """Several license files: joined with OR (LICENSE-MIT + LICENSE-APACHE) or AND."""
    known = sorted({i for i in ids if i != UNKNOWN})
    if not known:
        return UNKNOWN
    if len(known) == 1:
        return known[0]
    op = " OR " if alternatives else " AND "
    return op.join(f"({k})" if " " in k else k for k in known)


# --- Debian copyright files ---------------------------------------------------
def _dep5_paragraphs(text: str) -> list[dict[str, str]]:
    """Paragraphs of a deb822 file as {field-lower: first line of value}."""
    paragraphs: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                paragraphs.append(current)
                current = {}
            continue
        if line[0] in " \t" or ":" not in line:
            continue
        key, _, value = line.partition(":")
        current[key.strip().lower()] = value.strip()
    if current:
        paragraphs.append(current)
    return paragraphs


def from_debian_copyright(text: str) -> str:
    """License of a package's main files from `usr/share/doc/PKG/copyright`.

    Machine-readable files give the License of the `Files: *` paragraph (or
    the header's); free-form files are read for GPL/LGPL references to
    /usr/share/common-licenses and then as license texts.
    """
    if re.match(r"\s*Format:\s*\S*(copyright-format|dep5|DEP-5)", text, re.I):
        paragraphs = _dep5_paragraphs(text)
        for para in paragraphs:
            if para.get("files", "").split() and para["files"].split()[0] == "*" and para.get("license"):
                return normalize_expression(para["license"])
        for para in paragraphs:
            if "format" in para and para.get("license"):
                return normalize_expression(para["license"])
        for para in paragraphs:
            if para.get("files") and para.get("license"):
                return normalize_expression(para["license"])
        return UNKNOWN
    t = _squash(text)
    later = "any later version" in t
    m = re.search(r"/usr/share/common-licenses/(gpl|lgpl|apache|bsd|artistic|mpl|cc0)[-]?([0-9.]*)", t)
    if m:
        kind, version = m.group(1), m.group(2).rstrip(".")
        if kind == "apache":
            return "Apache-2.0"
        if kind == "bsd":
            return "BSD-3-Clause"
        if kind == "cc0":
            return "CC0-1.0"
        if kind in ("gpl", "lgpl"):
            # An unversioned /usr/share/common-licenses/LGPL is the LGPL 2 (Library GPL) family.
            default = "1" if kind == "gpl" else "2"
            return normalize_id(f"{kind}-{version or default}{'+' if later or not version else ''}")
    return classify_text(text)
