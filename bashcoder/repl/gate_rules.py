"""The gate's rules: which program a simple command runs, and whether that one command is destructive.

`command_core` looks behind prefixes and wrappers (`sudo -u x env A=1`,
`pkexec`, `busybox`, `env -S '...'`, `xargs` with its input when known) to the
program that runs; `command_dangers` judges that program and its arguments
on their own. Following scripts into shells, substitutions, pipes, aliases
and other hosts is `safety.py`'s job. Pure functions, no I/O.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from bashcoder.repl.bashlex import Command, Word, parse


@dataclass(frozen=True)
class Danger:
    """One reason a command needs an explicit yes."""

    rule: str
    """Short identifier: rm-root, mkfs, dd-device, fork-bomb, chmod-root, pipe-shell, device-write,
    find-delete, shutdown, auth-file."""
    reason: str
    """What would happen, in words a user reads before typing yes."""


_PREFIX_WORDS = {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time", "coproc"}
_NOT_COMMANDS = {"for", "select", "case", "function", "}", "fi", "done", "esac", "in", "[[", "(("}
# wrapper -> options that take a separate value
_WRAPPERS: dict[str, set[str]] = {
    "sudo": {"-u", "-g", "-U", "-C", "-h", "-p", "-r", "-t", "-D", "-T", "--user", "--group", "--chdir"},
    "doas": {"-u", "-C"},
    "pkexec": {"--user"},
    "run0": {"-u", "--user", "-g", "--group", "-D", "--chdir", "--unit", "--description", "--nice"},
    "busybox": set(),  # `busybox rm -rf /`: the next word is the applet
    "env": {"-u", "-C", "--unset", "--chdir"},
    "nice": {"-n", "--adjustment"},
    "ionice": {"-c", "-n", "-p", "--class", "--classdata"},
    "timeout": {"-s", "-k", "--signal", "--kill-after"},
    "stdbuf": {"-i", "-o", "-e"},
    "setsid": set(),
    "nohup": set(),
    "command": set(),
    "builtin": set(),
    "exec": {"-a"},
    "xargs": {"-I", "-i", "-n", "-P", "-d", "-a", "-L", "-s", "-E", "-e", "--max-args", "--max-procs",
              "--delimiter", "--arg-file", "--max-lines", "--max-chars", "--eof"},
    "chronic": set(),
    "unbuffer": set(),
}  # fmt: skip
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "yash", "hush"}
DOWNLOADERS = {"curl", "wget", "fetch", "aria2c", "http", "https", "xh"}
SOURCE = {"source", "."}
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
_HOME = re.compile(r"^(\$HOME|\$\{HOME(?:[:?=-][^}]*)?\})(?=/|$)")


def _split_string(words: list[Word], i: int) -> tuple[list[Word], int] | None:
    """For `env -S STRING` at `i`: the words of STRING (env splits it much as a shell would) and the index
    after the option; None when words[i] is not -S."""
    opt = words[i].text
    if opt in ("-S", "--split-string") and i + 1 < len(words):
        value, after = words[i + 1].text, i + 2
    elif opt.startswith("--split-string="):
        value, after = opt.split("=", 1)[1], i + 1
    elif opt.startswith("-S") and len(opt) > 2:
        value, after = opt[2:], i + 1
    else:
        return None
    commands = parse(value)
    return (commands[0].words if commands else []), after


def _xargs_replace(opt: str, following: str | None) -> str | None:
    """The replace-string an xargs option sets (`-I {}`, `-I{}`, `-i`, `--replace=R`), else None."""
    if opt == "-I":
        return following
    if opt.startswith("-I"):
        return opt[2:]
    if opt in ("-i", "--replace"):
        return "{}"
    if opt.startswith("-i"):
        return opt[2:]
    if opt.startswith("--replace="):
        return opt.split("=", 1)[1]
    return None


def xargs_items(stdin: str, by_line: bool) -> list[str]:
    """What xargs makes of `stdin`: lines with -I, else blank-separated words with quotes removed."""
    if by_line:
        return [line.strip() for line in stdin.splitlines() if line.strip()]
    try:
        return shlex.split(stdin)
    except ValueError:
        return stdin.split()


def command_core(words: list[Word], stdin: str | None = None) -> tuple[str, list[Word]] | None:
    """(program name, its arguments) behind prefixes and wrappers such as `sudo -u x env A=1`.

    `stdin` is the text the command reads when it is visible (a here-string, a
    piped `echo`): `xargs` then gets its arguments from it, as xargs would.
    """
    words = list(words)
    i = 0
    while i < len(words):
        w = words[i].text
        if w in _PREFIX_WORDS or _ASSIGNMENT.match(w):
            i += 1
            continue
        if w in _NOT_COMMANDS:
            return None
        name = posixpath.basename(w) if "/" in w and not w.endswith("/") else w
        if name not in _WRAPPERS:
            return name, words[i + 1 :]
        takes_value = _WRAPPERS[name]
        replace: str | None = None
        i += 1
        while i < len(words):
            opt = words[i].text
            split = _split_string(words, i) if name == "env" else None
            if split is not None:
                inner, after = split
                words[i:after] = inner  # env -S 'rm -rf /': its string is the command
                break
            if name == "env" and _ASSIGNMENT.match(opt):
                i += 1
            elif opt.startswith("-") and opt != "-":
                if name == "xargs":
                    replace = (
                        _xargs_replace(opt, words[i + 1].text if i + 1 < len(words) else None) or replace
                    )
                i += 2 if opt in takes_value else 1
                if opt == "--":
                    break
            else:
                break
        if name == "timeout" and i < len(words):
            i += 1  # the duration
        if name == "xargs" and stdin is not None:
            words = words[:i] + _with_items(words[i:], xargs_items(stdin, replace is not None), replace)
    return None


def _with_items(command: list[Word], items: list[str], replace: str | None) -> list[Word]:
    """xargs' command with its input items: in place of the replace-string, else appended."""
    command = command or [Word("echo")]
    if replace is None:
        return command + [Word(item) for item in items]
    out: list[Word] = []
    for w in command:
        out += [Word(w.text.replace(replace, item)) for item in items] if replace in w.text else [w]
    return out


def options_and_operands(args: list[Word]) -> tuple[list[str], list[str]]:
    """Arguments split into options (`-x`, `--long`) and operands, honouring `--`."""
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


def cd_to_danger(name: str, args: list[Word]) -> bool | None:
    """True after `cd /` or `cd ~`, False after another cd, None when not a cd."""
    if name not in ("cd", "pushd"):
        return None
    _, operands = options_and_operands(args)
    return not operands or _place(operands[0]) in ("/", "~")


# The files that say who may log in and who may run commands as root.
AUTH_FILE = re.compile(r"/etc/(?:sudoers(?:\.d(?:/.*)?)?|passwd|shadow|group|gshadow)")


def _auth_file(path: str) -> str | None:
    p, _ = normalise_path(path)
    return p if AUTH_FILE.fullmatch(p) else None


def _auth_danger(verb: str, path: str) -> Danger:
    return Danger("auth-file", f"{verb} {path}, which says who can log in or run commands as root")


def redirection_dangers(cmd: Command) -> Iterator[Danger]:
    """Writes onto a disk device or into the login and sudo files through `>`, `>>`, `&>` ..."""
    for op, target in cmd.redirs:
        writes = ">" in op and not (op.endswith("&") and re.fullmatch(r"\d+-?|-", target.text))
        if writes and DISK_DEVICE.match(target.text):
            yield Danger(
                "device-write", f"writes straight onto the disk device {target.text}, destroying its data"
            )
        elif writes and _auth_file(target.text):
            yield _auth_danger("writes to", target.text)


def command_dangers(name: str, args: list[Word], in_danger_dir: bool) -> Iterator[Danger]:
    """What running `name args` alone would destroy (`in_danger_dir`: after `cd /` or `cd ~`)."""
    opts, operands = options_and_operands(args)
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
    if name in ("tee", "cp", "mv", "install", "ln", "dd", "sed", "chmod", "chown", "chgrp", "truncate"):
        yield from _auth_writes(name, opts, operands)


def _auth_writes(name: str, opts: list[str], operands: list[str]) -> Iterator[Danger]:
    """`tee -a /etc/sudoers.d/x`, `cp f /etc/sudoers.d/`, `sed -i ... /etc/passwd`, `chmod 777 /etc/shadow`."""
    if name in ("cp", "mv", "install", "ln"):
        targets = operands[-1:] if len(operands) > 1 else []
    elif name == "dd":
        targets = [a[3:] for a in operands if a.startswith("of=")]
    elif name == "sed":
        in_place = any(o.startswith("--in-place") or (o[1:2] != "-" and "i" in o[1:]) for o in opts)
        targets = operands[1:] if in_place else []
    elif name in ("chmod", "chown", "chgrp", "truncate"):
        targets = operands[1:] if name != "truncate" else operands
    else:  # tee
        targets = operands
    for target in targets:
        if _auth_file(target):
            yield _auth_danger(f"{name} changes", target)


def _what(place: str) -> str:
    if place == "/":
        return "the whole system"
    if place.startswith("~"):
        return "your home directory" if place == "~" else f"the home directory {place}"
    return f"the system directory {place}"
