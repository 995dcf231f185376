"""Local git repositories read at HEAD straight from their object store: a bare git directory or a clone.

`--git PATH` names a repository already on disk (a working clone, or a bare
directory such as `git clone --bare` or a mirror leaves). Nothing is
cloned or checked out: `git ls-tree` lists the tree at HEAD and one
`git cat-file --batch` process streams the blobs, so uncommitted edits,
ignored files and other branches never enter the corpus, and a bare
directory needs no work tree. The group is the repository's
`remote.origin.url` (credentials removed) when it has one, so the manifest
names the repository as a clone of it would, else the resolved path. The
license comes from the LICENSE/COPYING files at the top of the tree.

Symlinks (mode 120000) and submodules (160000) are counted and never read.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from bashcoder.trainer.collect.detect import HEAD_BYTES, skip_by_name
from bashcoder.trainer.collect.license import classify_text
from bashcoder.trainer.collect.sources import Entry, Input, InputError
from bashcoder.trainer.collect.sources.dirs import LICENSE_NAME, combine_root_licenses
from bashcoder.trainer.collect.sources.gitcmd import SAFE_CONFIG, git_env, redact_url, run_git

# Reading objects runs no hooks, but git refuses repositories owned by another
# user ("dubious ownership") unless told otherwise; reading is safe either way.
READ_CONFIG = ("safe.directory=*",)
LICENSE_LIMIT = 256 * 1024


def is_local_repository(path: str) -> bool:
    """True when `path` is an existing directory that is itself a git repository (bare, or a clone's top)."""
    p = Path(path)
    if not p.is_dir():
        return False
    if (p / ".git").exists():
        return True
    return (p / "HEAD").is_file() and (p / "objects").is_dir() and (p / "refs").is_dir()


class LocalGitInput(Input):
    """One repository on disk, read at HEAD without a clone."""

    source = "git"

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path.resolve()
        self.timeout = timeout
        self.group = str(self.path)

    def _git(self, args: list[str], what: str) -> str:
        return run_git(
            ["-c", READ_CONFIG[0], "-C", str(self.path), *args], cwd=None, timeout=self.timeout, what=what
        )

    def prepare(self) -> None:
        self.version = self._git(["rev-parse", "--verify", "HEAD^{commit}"], f"reading HEAD of {self.path}")
        try:
            origin = self._git(["config", "--get", "remote.origin.url"], "git config")
        except InputError:  # no origin: the path names the repository
            origin = ""
        if origin:
            self.group = redact_url(origin)
        listing = self._git(["ls-tree", "-r", "-l", "-z", "--full-tree", "HEAD"], f"listing {self.path}")
        self._tree = parse_ls_tree(listing)
        top_licenses = sorted(
            (path, sha)
            for mode, kind, sha, size, path in self._tree
            if "/" not in path and LICENSE_NAME.match(path)
        )
        texts = []
        for _path, sha in top_licenses:
            blob = self._git(["cat-file", "blob", sha], "reading the license")
            texts.append(classify_text(blob[:LICENSE_LIMIT]))
        self.license = combine_root_licenses([p for p, _ in top_licenses], texts)

    def entries(self, drops: Counter[str]) -> Iterator[Entry]:
        wanted: list[tuple[str, str, int]] = []
        for mode, kind, sha, size, path in self._tree:
            if mode == "120000":
                drops["symlink"] += 1
            elif kind != "blob":
                drops["submodule"] += 1
            elif skip_by_name(path):
                drops["not-shell"] += 1
            else:
                wanted.append((path, sha, size))
        if not wanted:
            return
        cmd = ["git"]
        for option in (*SAFE_CONFIG, *READ_CONFIG):
            cmd += ["-c", option]
        cmd += ["-C", str(self.path), "cat-file", "--batch"]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=git_env())
        assert proc.stdin is not None and proc.stdout is not None
        try:
            for path, sha, _size in wanted:
                proc.stdin.write(f"{sha}\n".encode())
                proc.stdin.flush()
                header = proc.stdout.readline().split()
                if len(header) != 3:  # "<sha> missing": the snapshot lacks it (large or LFS files)
                    drops["unreadable"] += 1
                    continue
                data = proc.stdout.read(int(header[2]))
                proc.stdout.read(1)  # the newline after each object
                yield Entry(path, len(data), data[:HEAD_BYTES], lambda data=data: data)
        finally:
            proc.stdin.close()
            proc.stdout.close()
            proc.wait()


def parse_ls_tree(listing: str) -> list[tuple[str, str, str, int, str]]:
    """(mode, type, sha, size, path) per entry of `git ls-tree -r -l -z` output; size -1 where git gives '-'."""
    rows = []
    for item in listing.split("\0"):
        if not item:
            continue
        meta, path = item.split("\t", 1)
        mode, kind, sha, size = meta.split()
        rows.append((mode, kind, sha, int(size) if size.isdigit() else -1, path))
    return rows
