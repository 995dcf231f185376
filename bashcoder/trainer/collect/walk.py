"""Walking a directory tree without ever leaving it.

Every directory and file is opened relative to its parent's file descriptor
with O_NOFOLLOW, so no symlink is followed, not even one swapped in while we
walk: a tree can neither lead us out of its root nor into a loop. FIFOs,
sockets and device files are counted and never opened; files are opened
non-blocking and checked again with fstat after opening.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Callable, Iterator

from bashcoder.trainer.collect.detect import HEAD_BYTES, skip_by_name
from bashcoder.trainer.collect.sources import Entry

VCS_DIRS = frozenset({".git", ".hg", ".svn", ".bzr", "_darcs", "CVS"})
MAX_DEPTH = 64

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_NOCTTY = getattr(os, "O_NOCTTY", 0)
DIR_FLAGS = os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC
FILE_FLAGS = os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_NOCTTY | _O_CLOEXEC


def read_fd(fd: int, head: bytes, limit: int | None = None) -> bytes:
    """The rest of an open file after `head` (bounded by `limit` bytes in all, when given)."""
    chunks = [head]
    total = len(head)
    while limit is None or total <= limit:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def read_small_file(dir_fd: int, name: str, limit: int = 1 << 20) -> bytes | None:
    """A regular file's bytes (at most `limit`) opened under `dir_fd`; None for symlinks, odd or unreadable files."""
    try:
        fd = os.open(name, FILE_FLAGS, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return read_fd(fd, b"", limit)[:limit]
    except OSError:
        return None
    finally:
        os.close(fd)


def open_root(root: str) -> int:
    """A directory descriptor for `root` (itself resolved: a root given as a symlink is fine)."""
    return os.open(os.path.realpath(root), DIR_FLAGS)


def walk(
    root: str,
    drops: Counter[str],
    *,
    prune: Callable[[os.stat_result], bool] | None = None,
    one_filesystem: bool = False,
) -> Iterator[Entry]:
    """Entries under `root` in sorted depth-first order, never following a symlink.

    `prune(stat)` skips a directory (the home directory under --system);
    `one_filesystem` stays on the root's device, like `find -xdev`.
    Names that are plainly binary (detect.skip_by_name) are counted as not-shell unread.
    """
    root_fd = open_root(root)
    try:
        root_dev = os.fstat(root_fd).st_dev
        yield from _walk_dir(root_fd, "", 0, drops, prune, root_dev if one_filesystem else None)
    finally:
        os.close(root_fd)


def _walk_dir(
    dir_fd: int,
    rel: str,
    depth: int,
    drops: Counter[str],
    prune: Callable[[os.stat_result], bool] | None,
    device: int | None,
) -> Iterator[Entry]:
    try:
        with os.scandir(dir_fd) as it:
            items = sorted(it, key=lambda e: e.name)
    except OSError:
        drops["unreadable"] += 1
        return
    for item in items:
        name = item.name
        path = f"{rel}/{name}" if rel else name
        try:
            st = item.stat(follow_symlinks=False)
        except OSError:
            drops["unreadable"] += 1
            continue
        mode = st.st_mode
        if stat.S_ISLNK(mode):
            drops["symlink"] += 1
        elif stat.S_ISDIR(mode):
            if (
                name in VCS_DIRS
                or (prune is not None and prune(st))
                or (device is not None and st.st_dev != device)
            ):
                continue
            if depth + 1 > MAX_DEPTH:
                drops["too-deep"] += 1
                continue
            try:
                sub_fd = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
            except OSError:
                # ELOOP here means the directory became a symlink after scandir: still not followed.
                drops["unreadable"] += 1
                continue
            try:
                yield from _walk_dir(sub_fd, path, depth + 1, drops, prune, device)
            finally:
                os.close(sub_fd)
        elif not stat.S_ISREG(mode):
            drops["not-regular-file"] += 1
        elif skip_by_name(path):
            drops["not-shell"] += 1
        else:
            yield from _open_file(dir_fd, name, path, drops)


def _open_file(dir_fd: int, name: str, path: str, drops: Counter[str]) -> Iterator[Entry]:
    try:
        fd = os.open(name, FILE_FLAGS, dir_fd=dir_fd)
    except OSError:
        drops["unreadable"] += 1
        return
    try:
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                drops["not-regular-file"] += 1
                return
            head = os.read(fd, HEAD_BYTES)
        except OSError:
            drops["unreadable"] += 1
            return
        yield Entry(path, st.st_size, head, lambda: read_fd(fd, head))
    finally:
        os.close(fd)
