"""Does a command destroy something that cannot be undone? Pure functions of its text.

Detects, in any simple command of the input (inside `if`/`for` bodies,
pipelines, `$(...)`, `<(...)`, backticks, `bash -c '...'`, `eval`, behind
`sudo`/`env`/`nice`/`xargs`...):

- `rm -r` on `/`, `~` (any spelling: `$HOME`, `${HOME}`, `~/`, `/*`) or a
  top-level system directory, and `rm -r *` after `cd /` or `cd ~`;
- `mkfs*`, `mke2fs`, `mkswap`, `wipefs -a`;
- `dd of=` a disk device, and `>`, `tee`, `cp` or `shred` onto one;
- fork bombs (`:(){ :|:& };:` and renamed variants);
- `chmod -R`, `chown -R`, `chgrp -R` on `/` or a top-level system directory;
- `find /` with `-delete`;
- `curl`/`wget` piped into a shell, or fed to one via `<(...)` or `-c "$(...)"`;
- `shutdown`, `reboot`, `halt`, `poweroff`, `init 0|6`, `systemctl reboot` ...

Text that only mentions these (`echo rm -rf /`, comments, quoted
arguments, heredoc bodies) is not flagged. It is a seat belt against
accidents, not a sandbox: it cannot know what `rm -rf "$dir"` expands to.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

MAX_DEPTH = 6


@dataclass(frozen=True)
class Danger:
    """One reason a command needs an explicit yes."""

    rule: str
    """Short identifier: rm-root, mkfs, dd-device, fork-bomb, chmod-root, pipe-shell, device-write,
    find-delete, shutdown."""
    reason: str
    """What would happen, in words a user reads before typing yes."""


def dangers(text: str) -> list[Danger]:
    """Every reason `text` is destructive (empty when it looks safe), without duplicates."""
    found: list[Danger] = []
    for d in _scan(text, 0):
        if d not in found:
            found.append(d)
    return found


def is_destructive(text: str) -> bool:
    return bool(dangers(text))


# ---- lexing ---------------------------------------------------------------


@dataclass
class Word:
    text: str
    """The word with quotes and escapes removed; substitutions left as written."""
    subs: list[str] = field(default_factory=list)
    """Scripts inside `$(...)`, backticks, `<(...)` and `>(...)` in this word."""


@dataclass
class Command:
    words: list[Word] = field(default_factory=list)
    redirs: list[tuple[str, Word]] = field(default_factory=list)
    """(operator, target) pairs, e.g. ('>', Word('/dev/sda')) or ('2>', ...)."""
    pipe_next: bool = False
    """Its output is piped into the next command."""


_SEPARATORS = (";;&", ";;", ";&", "&&", "||", "|&", ";", "&", "|", "(", ")")
_REDIR = re.compile(r"(\d*|&)(>>|>\||>&|<<<|<<-|<<|<>|<&|>|<)")
_META = set(" \t\n;&|()<>")


def _balanced(text: str, i: int, open_ch: str = "(", close_ch: str = ")") -> int:
    """Index just past the bracket matching the one at `i`, skipping quoted text."""
    depth = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = text.find("'", i + 1)
            i = n if j < 0 else j + 1
            continue
        if c == '"':
            i = _end_of_double(text, i + 1)
            continue
        if c == open_ch:
            depth += 1
        elif c == close_ch:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def _end_of_double(text: str, i: int) -> int:
    """Index just past the closing double quote, for `i` just after the opening one."""
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        elif c == "$" and text[i + 1 : i + 2] == "(":
            i = _balanced(text, i + 1)
        elif c == "`":
            j = text.find("`", i + 1)
            i = n if j < 0 else j + 1
        else:
            i += 1
    return n


def _read_word(text: str, i: int) -> tuple[Word, int]:
    buf: list[str] = []
    subs: list[str] = []
    n = len(text)
    while i < n:
        c = text[i]
        if c in _META:
            break
        if c == "\\":
            if text[i + 1 : i + 2] != "\n":
                buf.append(text[i + 1 : i + 2])
            i += 2
        elif c == "'":
            j = text.find("'", i + 1)
            j = n if j < 0 else j
            buf.append(text[i + 1 : j])
            i = j + 1
        elif c == '"':
            end = _end_of_double(text, i + 1)
            inner = text[i + 1 : end - 1 if end <= n and text[end - 1 : end] == '"' else end]
            inner_word, _ = _read_double_content(inner)
            buf.append(inner_word.text)
            subs += inner_word.subs
            i = end
        elif c == "$" and text[i + 1 : i + 3] == "((":
            end = _balanced(text, i + 1)
            buf.append(text[i:end])
            i = end
        elif c == "$" and text[i + 1 : i + 2] == "(":
            end = _balanced(text, i + 1)
            subs.append(text[i + 2 : end - 1])
            buf.append(text[i:end])
            i = end
        elif c == "$" and text[i + 1 : i + 2] == "{":
            end = _balanced(text, i + 1, "{", "}")
            buf.append(text[i:end])
            i = end
        elif c == "`":
            j = text.find("`", i + 1)
            j = n if j < 0 else j
            subs.append(text[i + 1 : j])
            buf.append(text[i : j + 1])
            i = j + 1
        else:
            buf.append(c)
            i += 1
    return Word("".join(buf), subs), i


def _read_double_content(inner: str) -> tuple[Word, int]:
    """The text and substitutions inside a double-quoted string."""
    buf: list[str] = []
    subs: list[str] = []
    i, n = 0, len(inner)
    while i < n:
        c = inner[i]
        if c == "\\" and inner[i + 1 : i + 2] in ('"', "\\", "$", "`"):
            buf.append(inner[i + 1])
            i += 2
        elif c == "$" and inner[i + 1 : i + 3] == "((":
            end = _balanced(inner, i + 1)
            buf.append(inner[i:end])
            i = end
        elif c == "$" and inner[i + 1 : i + 2] == "(":
            end = _balanced(inner, i + 1)
            subs.append(inner[i + 2 : end - 1])
            buf.append(inner[i:end])
            i = end
        elif c == "`":
            j = inner.find("`", i + 1)
            j = n if j < 0 else j
            subs.append(inner[i + 1 : j])
            buf.append(inner[i : j + 1])
            i = j + 1
        else:
            buf.append(c)
            i += 1
    return Word("".join(buf), subs), i


def parse(text: str) -> list[Command]:
    """Simple commands of `text`, in order, with their redirections and pipe links."""
    commands: list[Command] = []
    cur = Command()
    heredocs: list[tuple[str, bool]] = []
    pending_redir: str | None = None
    i, n = 0, len(text)

    def finish(pipe: bool = False) -> None:
        nonlocal cur
        if cur.words or cur.redirs:
            cur.pipe_next = pipe
            commands.append(cur)
        cur = Command()

    while i < n:
        c = text[i]
        if c in " \t":
            i += 1
            continue
        if c == "\\" and text[i + 1 : i + 2] == "\n":
            i += 2
            continue
        if c == "#" and (i == 0 or text[i - 1] in _META):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "\n":
            finish()
            i += 1
            for delim, strip_tabs in heredocs:
                while i < n:
                    j = text.find("\n", i)
                    line = text[i : n if j < 0 else j]
                    i = n if j < 0 else j + 1
                    if (line.lstrip("\t") if strip_tabs else line) == delim:
                        break
            heredocs.clear()
            continue
        if c in "<>" and text[i + 1 : i + 2] == "(":
            end = _balanced(text, i + 1)
            word = Word(text[i:end], [text[i + 2 : end - 1]])
            if pending_redir is not None:
                cur.redirs.append((pending_redir, word))
                pending_redir = None
            else:
                cur.words.append(word)
            i = end
            continue
        m = _REDIR.match(text, i)
        if m and (m.group(1) or c in "<>"):
            pending_redir = m.group(0)
            i = m.end()
            continue
        sep = next((s for s in _SEPARATORS if text.startswith(s, i)), None)
        if sep is not None:
            finish(pipe=sep in ("|", "|&"))
            i += len(sep)
            continue
        word, i = _read_word(text, i)
        if pending_redir is not None:
            cur.redirs.append((pending_redir, word))
            if pending_redir.endswith(("<<", "<<-")):
                heredocs.append((word.text, pending_redir.endswith("-")))
            pending_redir = None
        else:
            cur.words.append(word)
    finish()
    return commands


# ---- what each command is --------------------------------------------------

_PREFIX_WORDS = {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time", "coproc"}
_NOT_COMMANDS = {"for", "select", "case", "function", "}", "fi", "done", "esac", "in", "[[", "(("}
# wrapper -> options that take a separate value
_WRAPPERS: dict[str, set[str]] = {
    "sudo": {"-u", "-g", "-U", "-C", "-h", "-p", "-r", "-t", "-D", "-T", "--user", "--group", "--chdir"},
    "doas": {"-u", "-C"},
    "env": {"-u", "-C", "-S", "--unset", "--chdir"},
    "nice": {"-n", "--adjustment"},
    "ionice": {"-c", "-n", "-p", "--class", "--classdata"},
    "timeout": {"-s", "-k", "--signal", "--kill-after"},
    "stdbuf": {"-i", "-o", "-e"},
    "nohup": set(),
    "command": set(),
    "builtin": set(),
    "exec": {"-a"},
    "xargs": {"-I", "-n", "-P", "-d", "-a", "-L", "-s", "-E", "--max-args", "--max-procs", "--delimiter"},
    "chronic": set(),
    "unbuffer": set(),
}
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "busybox"}
DOWNLOADERS = {"curl", "wget", "fetch", "aria2c", "http", "https", "xh"}
_SOURCE = {"source", "."}
SYSTEM_DIRS = {
    "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/opt", "/proc",
    "/root", "/sbin", "/srv", "/sys", "/usr", "/var", "/mnt", "/media", "/snap",
    "/Applications", "/Library", "/System", "/Users", "/Volumes", "/private",
}  # fmt: skip
DISK_DEVICE = re.compile(
    r"^/dev/(sd[a-z]+\d*|hd[a-z]+\d*|vd[a-z]+\d*|xvd[a-z]+\d*|nvme\d+(n\d+)?(p\d+)?|mmcblk\d+(p\d+|boot\d+)?"
    r"|r?disk\d+(s\d+)?|md\d+|md/\S+|dm-\d+|mapper/\S+|loop\d+|sr\d+|fd\d+|mtdblock\d+|ubd[a-z]+\d*"
    r"|root|disk/by-\S+|mem|kmem|port)$"
)
_FORK_BOMB = re.compile(
    r"(?:function\s+)?(?P<n>[^\s(){}|&;<>'\"]+)\s*(?:\(\s*\))?\s*\{\s*(?P=n)\s*\|\s*&?\s*(?P=n)\s*&\s*;?\s*\}"
    r"\s*;?\s*(?P=n)(?![^\s;&|)])"
)
_HOME = re.compile(r"^(\$HOME|\$\{HOME(?:[:?=-][^}]*)?\})(?=/|$)")


def command_core(words: list[Word]) -> tuple[str, list[Word]] | None:
    """(command name, its arguments) behind prefixes and wrappers such as `sudo -u x env A=1`."""
    i = 0
    while i < len(words):
        w = words[i].text
        if w in _PREFIX_WORDS or _ASSIGNMENT.match(w):
            i += 1
            continue
        if w in _NOT_COMMANDS:
            return None
        name = posixpath.basename(w) if "/" in w and not w.endswith("/") else w
        if name in _WRAPPERS:
            takes_value = _WRAPPERS[name]
            i += 1
            while i < len(words):
                opt = words[i].text
                if name == "env" and _ASSIGNMENT.match(opt):
                    i += 1
                elif opt.startswith("-") and opt != "-":
                    i += 2 if opt in takes_value else 1
                    if opt == "--":
                        break
                else:
                    break
            if name == "timeout" and i < len(words):
                i += 1  # the duration
            continue
        return name, words[i + 1 :]
    return None


def _options_and_operands(args: list[Word]) -> tuple[list[str], list[str]]:
    opts: list[str] = []
    operands: list[str] = []
    after_dashes = False
    for a in args:
        t = a.text
        if not after_dashes and t == "--":
            after_dashes = True
        elif not after_dashes and t.startswith("-") and t != "-":
            opts.append(t)
        else:
            operands.append(t)
    return opts, operands


def _recursive(opts: list[str], letters: str = "rR") -> bool:
    for o in opts:
        if o.startswith("--"):
            if o == "--recursive":
                return True
        elif any(ch in o[1:] for ch in letters):
            return True
    return False


def normalise_path(path: str) -> tuple[str, bool]:
    """(`path` with home spelled `~`, duplicate and trailing slashes, `/.` and a final `/*` removed;
    whether a final `/*` glob was removed)."""
    p = _HOME.sub("~", path)
    p = re.sub(r"/+", "/", p)
    glob = False
    while True:
        if p.endswith("/*"):
            p, glob = p[:-2], True
        elif p.endswith("/.") and len(p) > 2:
            p = p[:-2]
        elif p.endswith("/") and len(p) > 1:
            p = p[:-1]
        else:
            break
    if p in ("", "/."):
        p = "/"
    return p, glob


def _place(path: str) -> str | None:
    """'/', '~' or the system directory that `path` (a deletion target) wipes, else None."""
    p, _ = normalise_path(path)
    if p == "/" or p in SYSTEM_DIRS:
        return p
    if p == "~" or re.fullmatch(r"~[A-Za-z_][\w.-]*", p):
        return p
    return None


def _wipes_cwd(path: str) -> bool:
    p, _ = normalise_path(path)
    return p in (".", "*", "./*", "..") or path in ("*", "./*", ".", "./")


def _is_cd_to_danger(core: tuple[str, list[Word]]) -> bool | None:
    """True after `cd /` or `cd ~`, False after another cd, None when not a cd."""
    name, args = core
    if name not in ("cd", "pushd"):
        return None
    _, operands = _options_and_operands(args)
    return not operands or _place(operands[0]) in ("/", "~")


def _names(script: str) -> set[str]:
    return {core[0] for cmd in parse(script) if (core := command_core(cmd.words))}


def _scan(text: str, depth: int) -> Iterator[Danger]:
    if depth > MAX_DEPTH or not text.strip():
        return
    bomb = _FORK_BOMB.search(code_only(text))
    if bomb:
        yield Danger(
            "fork-bomb", f"a fork bomb: {bomb.group('n')} starts copies of itself until the machine hangs"
        )
    commands = parse(text)
    in_danger_dir = False
    piped_from_download = False
    for idx, cmd in enumerate(commands):
        for word in cmd.words + [w for _, w in cmd.redirs]:
            for sub in word.subs:
                yield from _scan(sub, depth + 1)
        yield from _redirections(cmd)
        core = command_core(cmd.words)
        if core is None:
            piped_from_download = piped_from_download and cmd.pipe_next
            continue
        name, args = core
        cd = _is_cd_to_danger(core)
        if cd is not None:
            in_danger_dir = cd
        if piped_from_download and name in SHELLS | _SOURCE:
            yield Danger("pipe-shell", f"runs whatever the download returns with {name}, unread")
        prev_pipe = idx > 0 and commands[idx - 1].pipe_next
        downloading = name in DOWNLOADERS
        piped_from_download = cmd.pipe_next and (downloading or (piped_from_download and prev_pipe))
        yield from _command(name, args, in_danger_dir, depth)


def _redirections(cmd: Command) -> Iterator[Danger]:
    for op, target in cmd.redirs:
        writes = ">" in op and not (op.endswith("&") and re.fullmatch(r"\d+-?|-", target.text))
        if writes and DISK_DEVICE.match(target.text):
            yield Danger(
                "device-write", f"writes straight onto the disk device {target.text}, destroying its data"
            )


def _command(name: str, args: list[Word], in_danger_dir: bool, depth: int) -> Iterator[Danger]:
    opts, operands = _options_and_operands(args)
    if "--help" in opts or "--version" in opts:
        return
    if name == "rm":
        if "--no-preserve-root" in opts:
            yield Danger("rm-root", "rm --no-preserve-root removes the whole system")
        if _recursive(opts):
            for target in operands:
                place = _place(target)
                if place is not None:
                    yield Danger("rm-root", f"rm -r on {place} deletes {_what(place)}")
                elif in_danger_dir and _wipes_cwd(target):
                    yield Danger("rm-root", f"rm -r {target} after cd to / or ~ deletes everything there")
    elif name.startswith("mkfs") or name in ("mke2fs", "mkswap", "mkdosfs", "mkntfs"):
        yield Danger("mkfs", f"{name} formats a disk or partition, erasing it")
    elif name == "wipefs" and any(o in ("-a", "--all") or (o[1:2] != "-" and "a" in o[1:]) for o in opts):
        yield Danger("mkfs", "wipefs -a erases the filesystem signatures of a disk")
    elif name == "dd":
        for a in operands:
            if a.startswith("of=") and DISK_DEVICE.match(a[3:]):
                yield Danger("dd-device", f"dd writes onto the disk device {a[3:]}, destroying its data")
    elif name in ("tee", "cp", "shred", "blkdiscard"):
        devices = [a for a in operands if DISK_DEVICE.match(a)]
        if name == "cp":
            devices = [a for a in operands[-1:] if DISK_DEVICE.match(a)] if len(operands) > 1 else []
        for dev in devices:
            yield Danger("device-write", f"{name} writes onto the disk device {dev}, destroying its data")
    elif name in ("chmod", "chown", "chgrp"):
        if _recursive(opts, "R"):
            for target in operands:
                p, _ = normalise_path(target)
                if p == "/" or p in SYSTEM_DIRS:
                    yield Danger(
                        "chmod-root", f"{name} -R on {p} changes every file below it and can break the system"
                    )
    elif name == "find":
        roots = [a for a in (w.text for w in args) if not a.startswith(("-", "(", "!"))][:1]
        actions = {w.text for w in args}
        if roots and _place(roots[0]) is not None and ("-delete" in actions or {"-exec", "rm"} <= actions):
            yield Danger("find-delete", f"find {roots[0]} deletes files everywhere below it")
    elif name in ("shutdown", "reboot", "halt", "poweroff") and "-c" not in opts:
        yield Danger("shutdown", f"{name} stops or restarts the machine")
    elif name in ("init", "telinit") and operands[:1] in (["0"], ["6"]):
        yield Danger("shutdown", f"{name} {operands[0]} stops or restarts the machine")
    elif name in ("systemctl", "loginctl") and set(operands) & {
        "poweroff",
        "reboot",
        "halt",
        "kexec",
        "soft-reboot",
    }:
        yield Danger("shutdown", f"{name} {operands[0]} stops or restarts the machine")
    if name in SHELLS | _SOURCE | {"eval"}:
        yield from _shell_arguments(name, args, depth)
    elif name in ("su", "runuser") and "-c" in opts:
        i = [w.text for w in args].index("-c")
        if i + 1 < len(args):
            yield from _scan(args[i + 1].text, depth + 1)


def _shell_arguments(name: str, args: list[Word], depth: int) -> Iterator[Danger]:
    """`bash -c STRING`, `eval ...`, `bash <(curl ...)`, `sh -c "$(wget ...)"`."""
    texts = [w.text for w in args]
    script: str | None = None
    if name == "eval":
        script = " ".join(texts)
    elif "-c" in texts and texts.index("-c") + 1 < len(texts):
        script = texts[texts.index("-c") + 1]
    elif any(re.fullmatch(r"-[a-z]*c[a-z]*", t) for t in texts):
        flag = next(t for t in texts if re.fullmatch(r"-[a-z]*c[a-z]*", t))
        if texts.index(flag) + 1 < len(texts):
            script = texts[texts.index(flag) + 1]
    if script is not None:
        yield from _scan(script, depth + 1)
    fed = script is not None or name in _SOURCE | {"eval"} or any(w.text.startswith("<(") for w in args)
    if fed:
        for w in args:
            if any(_names(sub) & DOWNLOADERS for sub in w.subs):
                yield Danger("pipe-shell", f"runs whatever the download returns with {name}, unread")
                return


def _what(place: str) -> str:
    if place == "/":
        return "the whole system"
    if place.startswith("~"):
        return "your home directory" if place == "~" else f"the home directory {place}"
    return f"the system directory {place}"


def code_only(text: str) -> str:
    """`text` with quoted strings emptied and comments dropped (for whole-text patterns)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            out.append(text[i : i + 2])
            i += 2
        elif c == "'":
            j = text.find("'", i + 1)
            out.append("''")
            i = n if j < 0 else j + 1
        elif c == '"':
            out.append('""')
            i = _end_of_double(text, i + 1)
        elif c == "#" and (i == 0 or text[i - 1] in _META):
            j = text.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)
