"""tldr-pages to bash: one page of command examples becomes a commented shell snippet (pure functions).

A tldr page (https://github.com/tldr-pages/tldr, CC-BY-4.0) is Markdown:
a `# name` title, `> ` description lines, then pairs of `- description:`
and a backticked command whose variable parts are `{{placeholders}}`
(see the project's contributing guide, "Placeholder syntax"). The command
lines are what people type, so each page becomes

    # tar
    # Archiving utility.

    # Create an archive and write it to a file:
    tar cf target.tar file1 file2

with every placeholder turned into a plausible value: `{{path/to/file}}`
becomes `file.txt`, `{{path/to/target.tar}}` becomes `target.tar`, option alternatives `{{[-v|--verbose]}}` become one of
them, `{{ethX}}` becomes `eth0`. Choices are drawn from a seed (the page's
path), so the same page always gives the same text.
"""

from __future__ import annotations

import hashlib
import random
import re

# Placeholder words that read as a type rather than a value, and a value a
# user would type in their place. Anything else keeps its own words.
VALUES = {
    "ethX": "eth0",
    "ip_address": "192.168.1.10",
    "ip": "192.168.1.10",
    "ipv4_address": "192.168.1.10",
    "username": "alice",
    "user": "alice",
    "user_name": "alice",
    "group": "staff",
    "groupname": "staff",
    "hostname": "example.com",
    "host": "example.com",
    "remote_host": "example.com",
    "domain": "example.com",
    "port": "8080",
    "url": "https://example.com",
    "pid": "1234",
    "process_id": "1234",
    "number": "10",
    "count": "10",
    "seconds": "30",
    "timeout": "30",
    "device": "/dev/sdb",
    "disk": "/dev/sdb",
    "partition": "/dev/sdb1",
    "interface": "eth0",
    "email": "user@example.com",
    "branch_name": "main",
    "branch": "main",
    "commit": "HEAD~1",
    "remote_name": "origin",
    "tag_name": "v1.0.0",
    "version": "1.2.3",
    "package": "curl",
    "package_name": "curl",
    "service": "nginx",
    "service_name": "nginx",
    "unit": "nginx.service",
    "container_name": "web",
    "container": "web",
    "image": "nginx:latest",
    "image_name": "nginx",
    "directory": "src",
    "dir": "src",
    "file": "file.txt",
    "filename": "file.txt",
    "path": "file.txt",
    "pattern": "error",
    "search_pattern": "error",
    "regex": "^[0-9]+",
    "string": "hello",
    "text": "hello",
    "message": "fix typo",
    "command": "ls -l",
}
_PLACEHOLDER = re.compile(r"\{\{(.+?)\}\}(?!\})")
_MNEMONIC = re.compile(r"\[(\w+)\]")
_OPTIONAL_EXT = re.compile(r"\[((?:\.[\w.]+\|?)+)\]")


def _rng(seed: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest()[:8], "big"))


def fill_placeholder(inner: str, rng: random.Random) -> str:
    """A plausible value for the text inside one `{{...}}`."""
    text = inner.strip()
    # {{[-v|--verbose]}}: alternative spellings of one option or subcommand.
    if text.startswith("[") and text.endswith("]") and "|" in text:
        return rng.choice(text[1:-1].split("|"))
    # path/to/source.tar[.gz|.bz2|.xz]: an optional suffix, one of several.
    text = _OPTIONAL_EXT.sub(lambda m: rng.choice(["", *m.group(1).split("|")]), text)
    # {{global|host|link}}: one of several values; `...` means "and others".
    if "|" in text and " " not in text and not any(c in text for c in "'\"=<>$"):
        choices = [c for c in text.split("|") if c and c != "..."]
        if choices:
            return rng.choice(choices)
    words = []
    for word in text.split():
        if word in ("...", "…"):
            continue
        word = re.sub(r"^(?:~/|/)?path/to/", "", word)
        words.append(VALUES.get(word, word))
    return " ".join(words)


def fill_command(command: str, seed: str) -> str:
    """`command` with every placeholder replaced (deterministic for a given seed)."""
    rng = _rng(seed)
    return _PLACEHOLDER.sub(lambda m: fill_placeholder(m.group(1), rng), command).strip()


def _plain(text: str) -> str:
    """Description text without tldr's `[c]reate` mnemonics and Markdown code ticks, capitalised."""
    text = _MNEMONIC.sub(r"\1", text).replace("`", "").strip()
    return text[:1].upper() + text[1:]


def tldr_to_bash(page: str, seed: str) -> str | None:
    """The shell snippet for one tldr page (Markdown text), or None when it holds no example.

    `seed` (the page's path) fixes the choices among placeholder values.
    """
    title = ""
    about: list[str] = []
    examples: list[tuple[str, str]] = []
    pending = ""
    for raw in page.splitlines():
        line = raw.strip()
        if line.startswith("# ") and not title:
            title = line[2:].strip()
        elif line.startswith(">"):
            body = line.lstrip(">").strip()
            if body and not re.match(r"(?i)(more information|see also|this command is an alias)", body):
                about.append(_plain(body))
        elif line.startswith("- "):
            pending = _plain(line[2:])
        elif line.startswith("`") and line.endswith("`") and len(line) > 2:
            command = fill_command(line[1:-1], f"{seed}:{len(examples)}")
            if command:
                examples.append((pending, command))
            pending = ""
    if not examples:
        return None
    out = [f"# {title}"] if title else []
    out += [f"# {a}" for a in about]
    for description, command in examples:
        out.append("")
        if description:
            out.append(f"# {description}")
        out.append(command)
    return "\n".join(out) + "\n"
