"""The one interface every source implements.

A source turns a user's request (--dir, --git, --debian ...) into inputs: a
directory root, a repository or a package. An input is prepared (cloned,
downloaded) and then yields entries, the raw files under it, with a relative
path, size, the first bytes and a way to read the rest. Inputs count their
own drops (symlinks, unreadable files, FIFOs and devices); what happens to an
entry afterwards is the pipeline's business.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bashcoder.trainer.collect.license import UNKNOWN


class InputError(Exception):
    """One input could not be prepared (clone failed, package missing): a one-line warning, the run goes on."""


@dataclass
class Entry:
    """One raw file: `read()` returns all of it (head included) and must be called before the next entry."""

    path: str
    """Path relative to the input's root, with forward slashes."""

    size: int
    """Size in bytes as stored (before reading)."""

    head: bytes
    """The first bytes (detect.HEAD_BYTES or fewer)."""

    reader: Callable[[], bytes]
    """Reads the whole file; raises OSError when it cannot."""

    def read(self) -> bytes:
        return self.reader()


class Input:
    """A root, repository or package. Subclasses fill in prepare() and entries()."""

    source: str = ""
    """"dir", "git", "debian" or "docs": the record's `source`."""

    group: str = ""
    """The record's `group`: root path, repository URL or package name."""

    version: str = ""
    """What was read: a commit, a package version; "" for directories."""

    license: str = UNKNOWN
    """License of the whole input; valid once entries() has been consumed."""

    location: str = ""
    """Where entry paths are relative to on disk ("/usr"), so detection can see
    `share/bash-completion/completions/x` as a completion file; "" for archives and clones."""

    @property
    def key(self) -> str:
        """Identifies the input across runs: re-scanning it replaces its earlier records."""
        return f"{self.source}:{self.group}"

    @property
    def label(self) -> str:
        """Short name for progress bars and warnings."""
        return self.group

    def prepare(self) -> None:
        """Fetch what entries() needs; raise InputError to skip this input with a warning."""

    def entries(self, drops: Counter[str]) -> Iterator[Entry]:
        """The raw files, in a deterministic order; unreadable or odd files are counted in `drops`."""
        raise NotImplementedError

    def license_for(self, path: str) -> str:
        """License of one file when the input knows better than its overall license (system packages)."""
        return self.license

    converted: bool = False
    """True when entries are shell text made by the input (documentation examples), not files to detect."""

    def group_for(self, path: str) -> str:
        """The record's group for one entry: the input's own group, or a finer one (documentation pages)."""
        return self.group

    def cleanup(self) -> None:
        """Release temporary files."""
