"""Directory sources: the user's own script folders (--dir) and the system's (--system).

A root is one input; its group is the resolved root path and record paths
are relative to it. A user root's license comes from a LICENSE/COPYING file
at its top, if any. Under --system on Debian-like systems each file's
license is its owning package's (dpkg's file lists + the package's copyright
file). The home directory is never scanned unless a --dir names it.
"""

from __future__ import annotations

import glob
import os
import platform
import re
import stat
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from bashcoder.engine.errors import BashcoderError
from bashcoder.trainer.collect.license import UNKNOWN, classify_text, combine, from_debian_copyright
from bashcoder.trainer.collect.sources import Entry, Input
from bashcoder.trainer.collect.walk import open_root, read_small_file, walk

LICENSE_NAME = re.compile(r"^(?:UN)?LICEN[CS]E|^COPYING|^COPYRIGHT", re.I)
DPKG_INFO = "/var/lib/dpkg/info"


def root_license(root: str) -> str:
    """SPDX id from LICENSE*/COPYING* files at the top of `root` ("unknown" without one)."""
    try:
        fd = open_root(root)
    except OSError:
        return UNKNOWN
    try:
        names = sorted(n for n in os.listdir(fd) if LICENSE_NAME.match(n))
        ids = []
        for name in names:
            data = read_small_file(fd, name, limit=256 * 1024)
            if data is not None:
                ids.append(classify_text(data.decode("utf-8", "replace")))
    finally:
        os.close(fd)
    return combine_root_licenses(names, ids)


def combine_root_licenses(names: list[str], ids: list[str]) -> str:
    """One SPDX expression for the license files `names` found at a root, classified as `ids`.

    LICENSE-MIT + LICENSE-APACHE is the usual "pick one" layout (OR); other
    sets of files all apply (AND).
    """
    alternatives = len(names) > 1 and all(re.match(r"(?i)licen[cs]e[-_.]", n) for n in names)
    return combine(ids, alternatives)


class DirInput(Input):
    """One directory root."""

    source = "dir"

    def __init__(self, root: Path, *, system: bool = False, owners: DpkgOwners | None = None) -> None:
        self.root = str(root)
        self.group = self.root
        self.location = self.root
        self.system = system
        self.owners = owners
        self._excluded = _home_inodes() if system else frozenset()

    def prepare(self) -> None:
        self.license = root_license(self.root)

    def entries(self, drops: Counter[str]) -> Iterator[Entry]:
        def prune(st: os.stat_result) -> bool:
            return (st.st_dev, st.st_ino) in self._excluded

        yield from walk(self.root, drops, prune=prune if self.system else None, one_filesystem=self.system)

    def license_for(self, path: str) -> str:
        if self.owners is not None:
            owned = self.owners.license_of(f"{self.root.rstrip('/')}/{path}")
            if owned is not None:
                return owned
        return self.license


def _home_inodes() -> frozenset[tuple[int, int]]:
    """(device, inode) of home directories, so a --system walk never enters one under any name."""
    found = set()
    for path in {os.path.expanduser("~"), "/root", "/home", "/Users"}:
        try:
            st = os.stat(path)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            found.add((st.st_dev, st.st_ino))
    return frozenset(found)


class DpkgOwners:
    """Which installed Debian package owns a path, and that package's license."""

    def __init__(self, info_dir: str = DPKG_INFO, doc_dir: str = "/usr/share/doc") -> None:
        self.info_dir = info_dir
        self.doc_dir = doc_dir
        self._owner: dict[str, str] | None = None
        self._licenses: dict[str, str] = {}

    def _load(self) -> dict[str, str]:
        owner: dict[str, str] = {}
        for listing in sorted(glob.glob(os.path.join(self.info_dir, "*.list"))):
            package = os.path.basename(listing)[: -len(".list")].split(":")[0]
            try:
                with open(listing, encoding="utf-8", errors="replace") as fh:
                    for line in fh:
                        owner.setdefault(line.rstrip("\n"), package)
            except OSError:
                continue
        return owner

    def package_of(self, path: str) -> str | None:
        if self._owner is None:
            self._owner = self._load()
        found = self._owner.get(path)
        if found is None and path.startswith(self.info_dir.rstrip("/") + "/"):
            # Maintainer scripts are named PKG[:ARCH].postinst and are in no file list.
            found = os.path.basename(path).split(".", 1)[0].split(":", 1)[0]
        if found is None and path.startswith("/usr/"):
            # Merged /usr: dpkg may list /bin/x for what lives at /usr/bin/x.
            found = self._owner.get(path[len("/usr") :])
        return found

    def license_of(self, path: str) -> str | None:
        package = self.package_of(path)
        if package is None:
            return None
        if package not in self._licenses:
            try:
                with open(
                    os.path.join(self.doc_dir, package, "copyright"), encoding="utf-8", errors="replace"
                ) as fh:
                    self._licenses[package] = from_debian_copyright(fh.read())
            except OSError:
                self._licenses[package] = UNKNOWN
        return self._licenses[package]


def system_roots() -> list[Path]:
    """The usual script locations of this OS, outermost first, never a home directory."""
    candidates = ["/usr", "/etc", "/opt"]
    if platform.system() == "Linux":
        candidates.append(DPKG_INFO)
    if platform.system() == "Darwin":
        prefix = os.environ.get("HOMEBREW_PREFIX") or (
            "/opt/homebrew" if os.path.isdir("/opt/homebrew") else "/usr/local"
        )
        candidates += [prefix, "/Library/Scripts"]
    roots: list[str] = []
    for candidate in candidates:
        real = os.path.realpath(candidate)
        if not os.path.isdir(real) or any(real == r or real.startswith(r.rstrip("/") + "/") for r in roots):
            continue
        roots = [r for r in roots if not r.startswith(real.rstrip("/") + "/")]
        roots.append(real)
    return [Path(r) for r in roots]


def dir_inputs(dirs: tuple[Path, ...], system: bool) -> list[DirInput]:
    """Inputs for --dir roots and --system, de-duplicated by resolved path."""
    inputs: dict[str, DirInput] = {}
    for d in dirs:
        real = Path(os.path.realpath(d.expanduser()))
        if not real.is_dir():
            what = "is not a directory" if real.exists() else "does not exist"
            raise BashcoderError(f"--dir {d} {what}; pass a folder of scripts.")
        inputs.setdefault(str(real), DirInput(real))
    if system:
        owners = DpkgOwners() if os.path.isdir(DPKG_INFO) else None
        for root in system_roots():
            inputs.setdefault(str(root), DirInput(root, system=True, owners=owners))
    return [inputs[k] for k in sorted(inputs)]
