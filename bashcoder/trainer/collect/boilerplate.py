"""Boilerplate that teaches a model nothing a user wants suggested: pure functions of a script's text.

Two kinds are removed, and counted by kind for the manifest:

- `license-header`: the license and copyright paragraphs of a script's
  leading comment block (after the shebang, before the first command).
  A model trained on them answers `# Script to list files` with a GPL
  header. Paragraphs of the same block that describe the script stay: they
  are the prompts users write. The file's license is kept in the record.
- `debhelper-section`: the sections debhelper pastes into maintainer
  scripts, from `# Automatically added by dh_...` to
  `# End automatically added section`: identical in thousands of packages.

Where a removal leaves two blank lines side by side, one goes; the rest of
the file is byte-for-byte what it was.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

# Phrases that occur in license and copyright notices and (almost) never in
# a description of what a script does. Matched case-insensitively on a
# paragraph with comment markers removed and whitespace squashed.
LICENSE_PHRASES = re.compile(
    r"copyright|\(c\)\s*\d|©|all rights reserved|spdx-license-identifier|"
    r"licen[cs]ed? under|under the terms of|the license\b|this license|license,? or\b|gnu (?:lesser |affero )?general public|"
    r"free software(?: foundation)?|permission is hereby granted|without (?:any )?warrant|"
    r"warranties|merchantability|redistribut|apache\.org/licenses|www\.gnu\.org/licenses|"
    r"opensource\.org/licenses|as is\" basis|provided (?:by .{0,60})?\"?as is|mozilla public license|"
    r"public domain|creativecommons\.org",
    re.IGNORECASE,
)
DH_START = re.compile(r"^\s*# Automatically added by dh_\S*")
DH_END = re.compile(r"^\s*# End automatically added section")
_COMMENT = re.compile(r"^\s*#")
_MODELINE = re.compile(r"^\s*#.*\b(?:vim?|ex):\s*(?:set\s)?.*:?\s*$|^\s*#\s*-\*-.*-\*-\s*$")


@dataclass(frozen=True)
class Stripped:
    """A script with its boilerplate removed, and what was removed (kind -> count)."""

    text: str
    counts: Counter[str] = field(default_factory=Counter)


def strip_boilerplate(text: str) -> Stripped:
    """Remove leading license/copyright comment paragraphs and debhelper sections from `text`.

    Idempotent: stripping a stripped script changes nothing. Line endings are
    kept as they are (a CRLF file stays CRLF).
    """
    counts: Counter[str] = Counter()
    lines = text.splitlines(keepends=True)
    lines = _drop_debhelper(lines, counts)
    lines = _drop_license_header(lines, counts)
    return Stripped("".join(lines) if counts else text, counts)


def _drop_debhelper(lines: list[str], counts: Counter[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        if DH_START.match(lines[i]):
            end = next((j for j in range(i + 1, len(lines)) if DH_END.match(lines[j])), None)
            if end is not None:  # an unterminated marker is left alone: we cannot tell where it ends
                counts["debhelper-section"] += 1
                i = end + 1
                if out and not out[-1].strip() and i < len(lines) and not lines[i].strip():
                    i += 1
                continue
        out.append(lines[i])
        i += 1
    return out


def _is_blank_or_bare_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or bool(re.fullmatch(r"#+[-=#*\s]*", stripped))


def _drop_license_header(lines: list[str], counts: Counter[str]) -> list[str]:
    """Split the leading comment block into paragraphs and drop the ones that read as a license."""
    start = 1 if lines and lines[0].startswith("#!") else 0
    end = start
    while end < len(lines) and (_COMMENT.match(lines[end]) or not lines[end].strip()):
        end += 1
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in lines[start:end]:
        current.append(line)
        if _is_blank_or_bare_comment(line):
            paragraphs.append(current)
            current = []
    if current:
        paragraphs.append(current)
    kept: list[str] = []
    dropped = False
    for para in paragraphs:
        words = " ".join(re.sub(r"^\s*#+\s?", "", ln).strip() for ln in para if not _MODELINE.match(ln))
        if LICENSE_PHRASES.search(words):
            dropped = True
            # The separator line that ended the paragraph goes too, unless it is all that is left.
            continue
        kept.extend(para)
    if not dropped:
        return lines
    counts["license-header"] += 1
    # Separators left standing alone at either end of the block go; the blank
    # line that parted the block from the code stays.
    while kept and _is_blank_or_bare_comment(kept[0]):
        kept.pop(0)
    while kept and _is_blank_or_bare_comment(kept[-1]):
        kept.pop()
    if end > start and not lines[end - 1].strip() and (kept or start):
        kept.append(lines[end - 1])
    return lines[:start] + kept + lines[end:]
