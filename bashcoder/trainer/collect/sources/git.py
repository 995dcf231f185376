"""Git sources: depth-1 clones of repositories into the user cache directory.

Clones run with hooks disabled (`core.hooksPath=/dev/null`), no submodules,
no terminal prompts, the `ext::` transport refused and a timeout. A clone is
made in a temporary sibling directory and renamed into place, so an
interrupted clone never poses as a finished one; a cached clone is fetched
and reset instead of cloned again, and kept (with a warning) when the
network is down. The repository's license comes from its LICENSE/COPYING
files; the group is the URL without credentials.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from bashcoder.engine.errors import BashcoderError
from bashcoder.trainer.collect.sources import Entry, Input, InputError
from bashcoder.trainer.collect.sources.dirs import root_license
from bashcoder.trainer.collect.sources.gitcmd import redact_url, run_git
from bashcoder.trainer.collect.sources.gittree import LocalGitInput, is_local_repository
from bashcoder.trainer.collect.walk import walk

_URL = re.compile(r"^(?:https?|git|ssh|file)://\S+$|^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:[^\s]+$")


def normalize_url(url: str, flag: str = "--git") -> str:
    """A cloneable URL: local directories become file:// URLs; anything else must look like a git URL.

    BashcoderError naming `flag` (the option the URL came from) otherwise.
    """
    url = url.strip()
    if url.startswith("-") or url.startswith("ext::") or "::" in url.split("/", 1)[0]:
        raise BashcoderError(
            f"{flag} {url}: not a repository URL or a directory; use https://, ssh://, git:// or file:// URLs, "
            "or the path of a clone."
        )
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url) and os.path.isdir(url):
        return Path(url).resolve().as_uri()
    if not _URL.match(url):
        raise BashcoderError(
            f"{flag} {url}: not a repository URL or a directory; use https://, ssh://, git:// or file:// URLs, "
            "or the path of a clone."
        )
    return url


def cache_slug(url: str) -> str:
    """A readable, collision-free directory name for a URL's clone."""
    clean = redact_url(url)
    tail = re.sub(r"[^A-Za-z0-9._-]+", "-", clean.split("://", 1)[-1]).strip("-.")[-60:]
    return f"{tail}-{hashlib.sha256(clean.encode()).hexdigest()[:10]}"


class GitInput(Input):
    """One repository, cloned (depth 1) or refreshed in the cache directory."""

    source = "git"

    def __init__(
        self, url: str, cache_dir: Path, timeout: float, warn: Callable[[str], None] | None = None
    ) -> None:
        self.url = url
        self.group = redact_url(url)
        self.cache_dir = cache_dir / "git"
        self.timeout = timeout
        self.warn = warn or (lambda msg: None)
        self.workdir = self.cache_dir / cache_slug(url)

    def prepare(self) -> None:
        if shutil.which("git") is None:
            raise BashcoderError("git is not installed: install git (apt-get install git) to use --git.")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        if (self.workdir / ".git").is_dir():
            self._refresh()
        else:
            self._clone()
        self.version = run_git(
            ["rev-parse", "HEAD"],
            cwd=self.workdir,
            timeout=self.timeout,
            what=f"git rev-parse in {self.workdir}",
        )
        self.license = root_license(str(self.workdir))

    def _clone(self) -> None:
        if self.workdir.exists():
            shutil.rmtree(self.workdir)
        tmp = Path(tempfile.mkdtemp(prefix=f".{self.workdir.name}.", dir=self.cache_dir))
        try:
            run_git(
                [
                    "clone",
                    "--depth",
                    "1",
                    "--no-recurse-submodules",
                    "--single-branch",
                    "--quiet",
                    "--",
                    self.url,
                    str(tmp),
                ],
                cwd=None,
                timeout=self.timeout,
                what=f"git clone {self.group}",
            )
            os.replace(tmp, self.workdir)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def _refresh(self) -> None:
        try:
            run_git(
                ["fetch", "--depth", "1", "--no-tags", "--quiet", "origin", "HEAD"],
                cwd=self.workdir,
                timeout=self.timeout,
                what=f"git fetch {self.group}",
            )
        except InputError as exc:
            self.warn(f"{exc}; using the cached clone in {self.workdir}")
            return
        run_git(
            ["reset", "--hard", "--quiet", "FETCH_HEAD"],
            cwd=self.workdir,
            timeout=self.timeout,
            what="git reset",
        )
        run_git(["clean", "-ffdxq"], cwd=self.workdir, timeout=self.timeout, what="git clean")

    def entries(self, drops: Counter[str]) -> Iterator[Entry]:
        yield from walk(str(self.workdir), drops)


def read_list(path: Path) -> list[str]:
    """Entries of a --git-list / --debian-list file: one per line, # starts a comment."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BashcoderError(
            f"cannot read the list {path} ({exc.__class__.__name__}); pass a UTF-8 text file."
        ) from exc
    items = []
    for line in text.splitlines():
        item = line.split("#", 1)[0].strip()
        if item:
            items.append(item)
    return items


def git_inputs(
    urls: tuple[str, ...],
    cache_dir: Path,
    timeout: float,
    warn: Callable[[str], None],
    flag: str = "--git",
) -> list[Input]:
    """One input per distinct repository, sorted by group.

    A path to a repository on disk (a clone or a bare directory) is read at
    HEAD where it lies (gittree.LocalGitInput); anything else is cloned.
    """
    seen: dict[str, Input] = {}
    for url in urls:
        if is_local_repository(url.strip()):
            local = LocalGitInput(Path(url.strip()), timeout)
            seen.setdefault(f"local:{local.path}", local)
            continue
        clean = normalize_url(url, flag)
        seen.setdefault(redact_url(clean), GitInput(clean, cache_dir, timeout, warn))
    return [seen[k] for k in sorted(seen)]
