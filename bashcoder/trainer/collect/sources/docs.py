"""Documentation sources: command lines from tldr pages (--tldr) and man-page EXAMPLES sections (--man).

Both yield entries whose text is already shell (converted by the pure
functions in collect/tldr.py and collect/manpage.py), so the pipeline
skips detection for them (`Input.converted`) and runs every other stage:
filters, secret scrubbing, licenses, deduplication.

Pages are independent of one another, so a documentation input is not one
group: its records are grouped by command family (`git-commit` and
`git-log` together), so that the validation split holds whole families of
pages never trained on, as it holds whole repositories and packages.

No single tool may fill the documentation share: a family contributes at
most `MAX_PAGES_PER_FAMILY` pages, chosen evenly through its sorted names
(one cloud CLI alone installs 16,000 generated pages).
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

from bashcoder.engine.errors import BashcoderError
from bashcoder.trainer.collect.corpus import DOCS_SOURCE
from bashcoder.trainer.collect.detect import HEAD_BYTES
from bashcoder.trainer.collect.manpage import man_to_bash
from bashcoder.trainer.collect.sources import Entry, Input, InputError
from bashcoder.trainer.collect.sources.debian import DebInput
from bashcoder.trainer.collect.sources.dirs import DpkgOwners
from bashcoder.trainer.collect.tldr import tldr_to_bash

TLDR_LICENSE = "CC-BY-4.0"  # pages/ (the repository's scripts/ are MIT and not read)
# English pages for the platforms whose commands a bash user types.
TLDR_PAGE = re.compile(r"^pages/(common|linux|osx|freebsd|netbsd|openbsd|sunos|android)/([^/]+)\.md$")
MAN_PAGE = re.compile(r"^(?:usr/(?:local/)?share/man/)?man([18])/([^/]+)\.[18][a-z]*(?:\.gz)?$")
SYSTEM_MAN_ROOTS = ("/usr/share/man", "/usr/local/share/man")
MAX_PAGES_PER_FAMILY = 100
RENDER_TIMEOUT = 30.0


def family(name: str) -> str:
    """The command family of a page name: `git-commit` -> `git`, `ip-address` -> `ip`, `7z` -> `7z`."""
    return re.split(r"[-_.]", name, maxsplit=1)[0].lower() or name


def capped(names: list[str], limit: int = MAX_PAGES_PER_FAMILY) -> set[str]:
    """At most `limit` names per family, spread evenly over each family's sorted names."""
    by_family: dict[str, list[str]] = defaultdict(list)
    for name in sorted(set(names)):
        by_family[family(name)].append(name)
    keep: set[str] = set()
    for members in by_family.values():
        if len(members) <= limit:
            keep.update(members)
        else:
            step = len(members) / limit
            keep.update(members[int(i * step)] for i in range(limit))
    return keep


def _converted_entry(path: str, text: str) -> Entry:
    data = text.encode("utf-8")
    return Entry(path, len(data), data[:HEAD_BYTES], lambda: data)


class _DocsInput(Input):
    """Shared by the documentation inputs: converted entries, records grouped by command family."""

    source = DOCS_SOURCE
    converted = True

    def group_for(self, path: str) -> str:
        name = posixpath_stem(path)
        return f"{self.group}/{family(name)}"


def posixpath_stem(path: str) -> str:
    """`pages/common/git-commit.md` -> `git-commit`; `man1/tar.1.gz` -> `tar`."""
    base = path.rsplit("/", 1)[-1]
    m = MAN_PAGE.match(path)
    if m:
        return m.group(2)
    return base.rsplit(".", 1)[0] if "." in base else base


# --- tldr ----------------------------------------------------------------------------
class TldrInput(_DocsInput):
    """The tldr-pages repository: a local clone or bare directory, or a URL to clone (through `inner`)."""

    def __init__(self, inner: Input) -> None:
        self.inner = inner
        self.group = "tldr"

    @property
    def label(self) -> str:
        return f"tldr ({self.inner.label})"

    def prepare(self) -> None:
        self.inner.prepare()
        self.version = self.inner.version
        self.license = TLDR_LICENSE

    def entries(self, drops: Counter[str]) -> Iterator[Entry]:
        pages: list[tuple[str, bytes]] = []
        skipped: Counter[str] = Counter()
        for entry in self.inner.entries(skipped):
            if TLDR_PAGE.match(entry.path):
                pages.append((entry.path, entry.read()))
            else:
                drops["not-a-page"] += 1
        drops.update(skipped)
        keep = capped([posixpath_stem(p) for p, _ in pages])
        for path, raw in pages:
            if posixpath_stem(path) not in keep:
                drops["family-cap"] += 1
                continue
            text = tldr_to_bash(raw.decode("utf-8", "replace"), path)
            if text is None:
                drops["no-examples"] += 1
                continue
            yield _converted_entry(path, text)

    def cleanup(self) -> None:
        self.inner.cleanup()


# --- man pages -----------------------------------------------------------------------
def render_man(source: bytes, timeout: float = RENDER_TIMEOUT) -> str:
    """Plain UTF-8 text of one man page (roff, gzip-compressed or not), rendered by groff.

    groff does the typesetting (man and mdoc macros, tables) because no
    roff parser in Python handles real pages; InputError when it fails.
    """
    if source[:2] == b"\x1f\x8b":
        try:
            source = gzip.decompress(source)
        except (OSError, EOFError) as exc:
            raise InputError(f"a man page is not valid gzip ({exc})") from exc
    try:
        proc = subprocess.run(
            # -mandoc reads man and mdoc pages; a wide line keeps commands unbroken;
            # -P-cbou: no overstrike or colour codes, only text.
            ["groff", "-t", "-mandoc", "-Tutf8", "-P-cbou", "-rLL=200n", "-rHY=0"],
            input=source,
            capture_output=True,
            timeout=timeout,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
        )
    except subprocess.TimeoutExpired as exc:
        raise InputError(f"groff took longer than {timeout:.0f}s on a man page") from exc
    return proc.stdout.decode("utf-8", "replace")


def has_examples_section(source: bytes) -> bool:
    """A cheap test on the roff source before rendering: does it have an EXAMPLE(S) heading?"""
    if source[:2] == b"\x1f\x8b":
        try:
            source = gzip.decompress(source)
        except (OSError, EOFError):
            return False
    return re.search(rb'^\.S[Hh]\s+"?EXAMPLES?\b', source, re.MULTILINE) is not None


def require_groff() -> None:
    if shutil.which("groff") is None:
        raise BashcoderError("--man needs groff to render man pages: apt-get install groff-base.")


def _man_entries(
    pages: list[tuple[str, bytes]], commands: frozenset[str], drops: Counter[str]
) -> Iterator[Entry]:
    keep = capped([posixpath_stem(p) for p, _ in pages])
    for path, raw in pages:
        name = posixpath_stem(path)
        if name not in keep:
            drops["family-cap"] += 1
            continue
        if not has_examples_section(raw):
            drops["no-examples"] += 1
            continue
        text = man_to_bash(render_man(raw), name, commands)
        if text is None:
            drops["no-examples"] += 1
            continue
        yield _converted_entry(path, text)


class ManDirInput(_DocsInput):
    """Sections 1 and 8 of the man pages installed under one root (English pages only)."""

    def __init__(self, root: str, commands: frozenset[str], owners: DpkgOwners | None = None) -> None:
        self.root = root
        self.group = "man:" + root.strip("/").replace("/", ".")  # no slash: family groups hang below it
        self.commands = commands
        self.owners = owners

    def prepare(self) -> None:
        require_groff()

    def entries(self, drops: Counter[str]) -> Iterator[Entry]:
        pages: list[tuple[str, bytes]] = []
        for section in ("1", "8"):
            folder = Path(self.root) / f"man{section}"
            try:
                names = sorted(os.listdir(folder))
            except OSError:
                continue
            for name in names:
                path = f"man{section}/{name}"
                full = folder / name
                if full.is_symlink() or not full.is_file() or not MAN_PAGE.match(path):
                    drops["not-a-page"] += 1
                    continue
                try:
                    pages.append((path, full.read_bytes()))
                except OSError:
                    drops["unreadable"] += 1
        yield from _man_entries(pages, self.commands, drops)

    def license_for(self, path: str) -> str:
        if self.owners is not None:
            owned = self.owners.license_of(f"{self.root.rstrip('/')}/{path}")
            if owned is not None:
                return owned
        return self.license


class ManDebInput(_DocsInput):
    """The section 1 and 8 man pages inside one .deb (the package's license applies)."""

    def __init__(self, path: Path, commands: frozenset[str]) -> None:
        self.deb = DebInput(path, wanted=lambda p: MAN_PAGE.match(p) is not None, maintainer_scripts=False)
        self.group = f"man:{self.deb.group}"
        self.commands = commands

    @property
    def label(self) -> str:
        return f"man {self.deb.label}"

    def prepare(self) -> None:
        require_groff()
        self.deb.prepare()
        self.group = f"man:{self.deb.group}"
        self.version = self.deb.version

    def entries(self, drops: Counter[str]) -> Iterator[Entry]:
        pages = [(e.path, e.read()) for e in self.deb.entries(drops)]
        self.license = self.deb.license  # known once the package has been read
        yield from _man_entries(pages, self.commands, drops)


def installed_commands(roots: tuple[str, ...] = SYSTEM_MAN_ROOTS) -> frozenset[str]:
    """Names of the section 1 and 8 pages installed here: words a man-page example line may start with."""
    names: set[str] = set()
    for root in roots:
        for section in ("1", "8"):
            try:
                names.update(
                    posixpath_stem(f"man{section}/{n}") for n in os.listdir(Path(root) / f"man{section}")
                )
            except OSError:
                continue
    return frozenset(names)


def man_inputs(
    debs: list[Path], roots: tuple[str, ...] = SYSTEM_MAN_ROOTS, warn: Callable[[str], None] | None = None
) -> list[Input]:
    """One input per man root that exists and one per .deb."""
    commands = installed_commands(roots)
    owners = DpkgOwners()
    inputs: list[Input] = [ManDirInput(r, commands, owners) for r in roots if os.path.isdir(r)]
    inputs += [ManDebInput(d, commands) for d in sorted(set(debs), key=lambda p: p.name)]
    if not inputs and warn is not None:
        warn("--man found no man pages: none installed and no Debian packages given")
    return inputs
