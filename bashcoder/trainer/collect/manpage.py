"""Man-page EXAMPLES to bash: the command lines of a rendered page's EXAMPLES section (pure functions).

The original design names man-page examples as a source: they are the
command lines a tool's own authors show. A page rendered to plain text
(`groff -man -Tutf8`, see sources/docs.py) has section headings at column
0; inside EXAMPLES, prose sits at one indent and commands either carry a
prompt (`$ `, `% `, or `# ` before the page's own command) or are set
deeper than the prose and start with a command name. Each command is kept
with the sentence that introduced it as a comment:

    # find - search for files in a directory hierarchy

    # Find files named core in or below the directory /tmp and delete them.
    find /tmp -name core -type f -print | xargs /bin/rm -f

Lines continued with a backslash are joined as the shell would see them
(the backslash-newline kept). A page with no recognisable command gives None.
"""

from __future__ import annotations

import re

BUILTINS = frozenset(
    "cd echo printf export set unset read test source . eval exec for while if case trap ulimit "
    "umask alias type command sudo env time nohup xargs cat ls cp mv rm mkdir grep sed awk find sort "
    "tar curl wget ssh git make".split()
)
_HEADING = re.compile(r"^[A-Z][A-Z0-9 ,/&()-]*$")
_PROMPT = re.compile(r"^(?:\$|%|#|>)\s+(?=\S)")
_BULLET = re.compile(r"^[•·*-]\s+")
MAX_DESCRIPTION = 160


def sections(text: str) -> dict[str, list[str]]:
    """Heading -> body lines of a rendered man page (headings at column 0 in capitals)."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line and not line[0].isspace() and _HEADING.match(line.strip()):
            current = out.setdefault(line.strip(), [])
        elif current is not None:
            current.append(line.rstrip())
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _first_word(command: str) -> str:
    word = command.split(None, 1)[0] if command.split() else ""
    return word.rsplit("/", 1)[-1]


def _is_command(body: str, prompt: bool, name: str, commands: frozenset[str]) -> bool:
    first = _first_word(body)
    if not first or first.endswith((".", ":")) or not re.match(r"^[\w.\[/-]", first):
        return False
    if prompt:
        return True
    return first == name or first in commands or first in BUILTINS


def _description(paragraph: list[str]) -> str:
    text = " ".join(_BULLET.sub("", ln.strip()) for ln in paragraph if ln.strip())
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > MAX_DESCRIPTION:  # the first sentence, or a cut at a word
        first = re.match(r"(.{20,}?[.:!?])(?:\s|$)", text)
        text = (
            first.group(1)
            if first and len(first.group(1)) <= MAX_DESCRIPTION
            else text[:MAX_DESCRIPTION].rsplit(" ", 1)[0]
        )
    return text


def examples(body: list[str], name: str, commands: frozenset[str]) -> list[tuple[str, str]]:
    """(description, command) pairs found in an EXAMPLES section's lines.

    A line without a prompt counts as a command only when it is set apart:
    after a blank line or another command, and deeper than the prose before it.
    """
    found: list[tuple[str, str]] = []
    paragraph: list[str] = []
    fresh = True  # the previous line was blank or a command
    i = 0
    while i < len(body):
        line = body[i]
        stripped = line.strip()
        i += 1
        if not stripped:
            fresh = True
            continue
        prompt = _PROMPT.match(stripped)
        command = stripped[prompt.end() :] if prompt else stripped
        # A root prompt `# ` is a comment in bash: only trust it before the page's own command.
        trusted = prompt is not None and (not stripped.startswith("#") or _first_word(command) == name)
        # Commands stand at another indent than the prose around them (deeper in
        # most pages; shallower in a definition list, where the prose follows).
        set_apart = fresh and (not paragraph or _indent(line) != _indent(paragraph[-1]))
        if (trusted or set_apart) and _is_command(command, trusted, name, commands):
            parts = [command]
            while parts[-1].endswith("\\") and i < len(body) and body[i].strip():
                parts.append(body[i].strip())
                i += 1
            joined = " \\\n    ".join(p.rstrip("\\").rstrip() for p in parts)
            description = _description(paragraph)
            if not description:  # a definition list: the explanation follows, indented deeper
                after = []
                while i < len(body) and body[i].strip() and _indent(body[i]) > _indent(line):
                    after.append(body[i])
                    i += 1
                description = _description(after)
            found.append((description, joined))
            paragraph = []
            fresh = True
            continue
        if fresh or _BULLET.match(stripped):  # a bullet starts an example's own text
            paragraph = []
        paragraph.append(line)
        fresh = False
    return found


def man_to_bash(rendered: str, name: str, commands: frozenset[str] = frozenset()) -> str | None:
    """The shell snippet for one rendered man page, or None when its EXAMPLES hold no command.

    `name` is the page's command (`find` for find.1); `commands` are other
    command names a line may start with (the names of installed pages).
    """
    parts = sections(rendered)
    body = parts.get("EXAMPLES") or parts.get("EXAMPLE") or parts.get("EXAMPLES OF USE")
    if not body:
        return None
    pairs = examples(body, name, commands)
    if not pairs:
        return None
    title = " ".join(" ".join(parts.get("NAME", [])).split())
    out = [f"# {title}" if title else f"# {name}"]
    seen: set[str] = set()
    for description, command in pairs:
        if command in seen:
            continue
        seen.add(command)
        out.append("")
        if description:
            out.append(f"# {description}")
        out.append(command)
    return "\n".join(out) + "\n"
