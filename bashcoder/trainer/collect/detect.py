"""Is this file a bash/sh script? Pure functions of a path and the first bytes.

Owns: shebang parsing, extension and bash-completion rules, the cheap
by-name skip for obvious non-text files, and turning bytes into text (binary
and non-UTF-8 files are refused). Does not own quality judgements (filters.py).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

# Enough for any real shebang line (Linux reads at most 256 bytes of it).
HEAD_BYTES = 512

SHELLS = frozenset({"sh", "bash", "dash", "ash"})
"""Interpreters whose scripts we keep: POSIX sh and bash (dash and busybox ash run sh)."""

# Shell-like but different languages (any other shebang counts too): training
# on them would teach the model zsh globs, fish syntax or csh control flow as bash.
OTHER_EXTENSIONS = frozenset({".zsh", ".fish", ".csh", ".tcsh", ".ksh", ".mksh", ".bats"})
SHELL_EXTENSIONS = frozenset({".sh", ".bash"})
RC_NAMES = frozenset(
    {
        ".bashrc",
        ".bash_profile",
        ".bash_login",
        ".bash_logout",
        ".bash_aliases",
        "bash.bashrc",
        "bash_completion",
        ".profile",
    }
)
COMPLETION_DIRS = ("bash-completion/completions/", "bash_completion.d/", "bash-completion/helpers/")

# Files whose name alone says "not a script": reading 80k ELF and image heads
# under /usr would cost more than the whole rest of a --system scan.
BINARY_EXTENSIONS = frozenset(
    {
        ".so",
        ".a",
        ".o",
        ".ko",
        ".pyc",
        ".pyo",
        ".mo",
        ".gz",
        ".xz",
        ".bz2",
        ".zst",
        ".lz4",
        ".zip",
        ".jar",
        ".deb",
        ".rpm",
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".ico",
        ".bmp",
        ".webp",
        ".svgz",
        ".ttf",
        ".otf",
        ".woff",
        ".woff2",
        ".pcf",
        ".pdf",
        ".wav",
        ".ogg",
        ".mp3",
        ".db",
        ".sqlite",
        ".bin",
        ".dat",
        ".cache",
        ".pf2",
        ".mod",
        ".efi",
        ".img",
        ".qm",
        ".typelib",
        ".hwdb",
        ".pack",
        ".idx",
    }
)


@dataclass(frozen=True)
class Verdict:
    """What detection decided: `shell` is "bash" or "sh" when kept, else `reason` says why not."""

    shell: str | None
    reason: str | None = None


NOT_SHELL = Verdict(None, "not-shell")
OTHER_LANGUAGE = Verdict(None, "other-language")


def skip_by_name(path: str) -> bool:
    """True when the name alone shows a non-text file, so its head need not be read."""
    name = posixpath.basename(path).lower()
    ext = posixpath.splitext(name)[1]
    return ext in BINARY_EXTENSIONS or ".so." in name


def shebang_interpreter(head: bytes) -> str | None:
    """The interpreter a `#!` line names ("bash" for `#!/usr/bin/env -S bash -e`), or None without one."""
    if not head.startswith(b"#!"):
        return None
    line = head[2:].split(b"\n", 1)[0].strip()
    try:
        words = line.decode("utf-8").split()
    except UnicodeDecodeError:
        return ""
    if not words:
        return ""
    name = posixpath.basename(words[0])
    rest = words[1:]
    if name in ("env", "busybox"):
        # Skip env's options and VAR=value assignments to reach the command.
        while rest and (rest[0].startswith("-") or "=" in rest[0]):
            opt = rest.pop(0)
            if opt in ("-u", "--unset", "-C", "--chdir") and rest:
                rest.pop(0)
        if not rest:
            return ""
        name = posixpath.basename(rest[0])
    return name


def _family(interpreter: str) -> str | None:
    """ "bash" or "sh" for a kept interpreter, None otherwise (versions like bash5 count as bash)."""
    base = interpreter.rstrip("0123456789.-")
    if base == "bash":
        return "bash"
    if base in SHELLS:
        return "sh"
    return None


def detect(path: str, head: bytes) -> Verdict:
    """Decide from the relative path and the first bytes whether a file is a bash/sh script.

    A shebang decides when present; without one, `.sh`/`.bash`, bash rc files
    and files in bash-completion directories count as shell, and zsh/fish/csh
    extensions as other languages.
    """
    interpreter = shebang_interpreter(head)
    if interpreter is not None:
        family = _family(interpreter)
        if family is not None:
            return Verdict(family)
        return OTHER_LANGUAGE if interpreter else NOT_SHELL
    name = posixpath.basename(path)
    ext = posixpath.splitext(name)[1].lower()
    if ext in OTHER_EXTENSIONS:
        return OTHER_LANGUAGE
    if ext == ".bash" or name in RC_NAMES or name.endswith(".bashrc"):
        return Verdict("bash")
    if ext == ".sh":
        return Verdict("sh")
    normalized = "/" + path.lstrip("/")
    if any("/" + d in normalized for d in COMPLETION_DIRS) and not name.startswith("."):
        return Verdict("bash")
    return NOT_SHELL


def decode(data: bytes) -> tuple[str | None, str | None]:
    """(text, None) for UTF-8 text, or (None, "binary" | "non-utf8")."""
    if b"\x00" in data:
        return None, "binary"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return None, "non-utf8"
