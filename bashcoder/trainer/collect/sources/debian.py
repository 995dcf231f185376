"""Debian package sources: `apt-get download` into the cache, then read each .deb in memory.

A .deb is an ar archive holding control.tar.* and data.tar.*. Both are read
as tar streams with the standard library and never extracted, so no member
can land anywhere on disk, let alone outside a temporary directory: absolute
and `..` paths are dropped as unsafe-path, links and devices are counted and
skipped. That is stricter than `dpkg-deb -x` into a temp dir and needs
neither dpkg nor root. Maintainer scripts (postinst ...) are read as
`DEBIAN/<name>`. The license comes from `usr/share/doc/PKG/copyright`.
"""

from __future__ import annotations

import hashlib
import io
import lzma
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from bashcoder.engine.errors import BashcoderError
from bashcoder.trainer.collect.detect import HEAD_BYTES, skip_by_name
from bashcoder.trainer.collect.license import UNKNOWN, from_debian_copyright
from bashcoder.trainer.collect.sources import Entry, Input, InputError

PACKAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9+.\-]+$")
MAINTAINER_SCRIPTS = ("preinst", "postinst", "prerm", "postrm", "config")
AR_MAGIC = b"!<arch>\n"
COPYRIGHT_LIMIT = 1 << 20


# --- ar + tar reading (pure over a file object) --------------------------------
def ar_members(fh: BinaryIO) -> list[tuple[str, int, int]]:
    """(name, offset, size) of each member of an ar archive; ValueError when it is not one or is truncated."""
    end = fh.seek(0, os.SEEK_END)
    fh.seek(0)
    if fh.read(8) != AR_MAGIC:
        raise ValueError("not an ar archive")
    members = []
    offset = 8
    while True:
        fh.seek(offset)
        header = fh.read(60)
        if not header:
            break
        if len(header) < 60 or header[58:60] != b"`\n":
            raise ValueError("truncated or corrupt ar header")
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip() or 0)
        if offset + 60 + size > end:
            raise ValueError(f"member {name} is cut short (truncated download?)")
        members.append((name, offset + 60, size))
        offset += 60 + size + (size % 2)
    return members


class _Slice(io.RawIOBase):
    """A read-only window [offset, offset+size) of an open file."""

    def __init__(self, fh: BinaryIO, offset: int, size: int) -> None:
        self.fh, self.pos, self.end = fh, offset, offset + size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.end - self.pos)
        if n <= 0:
            return 0
        self.fh.seek(self.pos)
        data = self.fh.read(n)
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)


def open_member_tar(fh: BinaryIO, name: str, offset: int, size: int) -> tarfile.TarFile:
    """A streaming TarFile over a control.tar.* / data.tar.* member."""
    raw = io.BufferedReader(_Slice(fh, offset, size), buffer_size=1 << 20)
    if name.endswith(".zst"):
        data = _unzstd(raw.read())
        return tarfile.open(fileobj=io.BytesIO(data), mode="r|")
    modes = {".tar": "r|", ".gz": "r|gz", ".xz": "r|xz", ".bz2": "r|bz2", ".lzma": "r|xz"}
    for suffix, mode in modes.items():
        if name.endswith(suffix):
            return tarfile.open(fileobj=raw, mode=mode)  # type: ignore[call-overload]
    raise ValueError(f"unsupported member {name}")


def _unzstd(data: bytes) -> bytes:
    try:
        import zstandard  # type: ignore[import-not-found]

        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    except ImportError:
        pass
    if shutil.which("zstd") is None:
        raise BashcoderError("this .deb is zstd-compressed: install zstd (apt-get install zstd) to read it.")
    return subprocess.run(["zstd", "-dcq"], input=data, capture_output=True, check=True).stdout


def safe_member_path(name: str) -> str | None:
    """The member's path relative to the archive root ("" for the root itself), or None when it is
    absolute or climbs out with `..`."""
    if name.startswith("/"):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None
    return "/".join(parts)


def parse_control(text: str) -> dict[str, str]:
    """Fields of a control file's first paragraph (keys lower-case, continuation lines dropped)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            break
        if line[0] in " \t" or ":" not in line:
            continue
        key, _, value = line.partition(":")
        fields[key.strip().lower()] = value.strip()
    return fields


class DebInput(Input):
    """One .deb file (downloaded or given with --deb-file)."""

    source = "debian"

    def __init__(
        self,
        path: Path,
        doc_root: str = "/usr/share/doc",
        *,
        wanted: Callable[[str], bool] | None = None,
        maintainer_scripts: bool = True,
    ) -> None:
        """`wanted(path)` picks the data members to yield (default: any not skipped by name)."""
        self.path = path
        self.wanted = wanted
        self.maintainer_scripts = maintainer_scripts
        self.group = path.name.split("_", 1)[0]
        self.doc_root = doc_root
        self._members: list[tuple[str, int, int]] = []
        self._control: dict[str, str] = {}

    @property
    def label(self) -> str:
        return self.group

    def prepare(self) -> None:
        try:
            with open(self.path, "rb") as fh:
                self._members = ar_members(fh)
                control = self._member("control.tar")
                if control is None or self._member("data.tar") is None:
                    raise ValueError("no control.tar or data.tar member")
                with open_member_tar(fh, *control) as tf:
                    for member in tf:
                        if safe_member_path(member.name) == "control" and member.isreg():
                            extracted = tf.extractfile(member)
                            if extracted is not None:
                                self._control = parse_control(
                                    extracted.read(1 << 16).decode("utf-8", "replace")
                                )
                            break
        except (OSError, ValueError, tarfile.TarError, EOFError) as exc:
            raise InputError(
                f"{self.path} is not a readable .deb ({exc}); rebuild or re-download it"
            ) from exc
        package = self._control.get("package", "")
        if PACKAGE_NAME.match(package):
            self.group = package
        self.version = self._control.get("version", "")

    def _member(self, prefix: str) -> tuple[str, int, int] | None:
        return next((m for m in self._members if m[0].startswith(prefix)), None)

    def entries(self, drops: Counter[str]) -> Iterator[Entry]:
        try:
            yield from self._entries(drops)
        except (tarfile.TarError, EOFError, lzma.LZMAError, zlib.error, ValueError) as exc:
            raise InputError(f"{self.path} is corrupt ({exc}); re-download or rebuild it") from exc

    def _entries(self, drops: Counter[str]) -> Iterator[Entry]:
        copyright_text: str | None = None
        doc_link: str | None = None
        doc_dir = f"usr/share/doc/{self.group}"
        with open(self.path, "rb") as fh:
            control = self._member("control.tar")
            data = self._member("data.tar")
            assert control is not None and data is not None  # prepare() checked
            with open_member_tar(fh, *control) as tf:
                for member in tf:
                    path = safe_member_path(member.name)
                    if self.maintainer_scripts and path in MAINTAINER_SCRIPTS and member.isreg():
                        yield from _tar_entry(tf, member, f"DEBIAN/{path}")
            with open_member_tar(fh, *data) as tf:
                for member in tf:
                    path = safe_member_path(member.name)
                    if path is None:
                        drops["unsafe-path"] += 1
                    elif not path or member.isdir():
                        continue
                    elif member.issym() or member.islnk():
                        if path == doc_dir and member.issym():
                            doc_link = member.linkname
                        drops["symlink"] += 1
                    elif not member.isreg():
                        drops["not-regular-file"] += 1
                    elif path == f"{doc_dir}/copyright":
                        extracted = tf.extractfile(member)
                        if extracted is not None:
                            copyright_text = extracted.read(COPYRIGHT_LIMIT).decode("utf-8", "replace")
                    elif not self.wanted(path) if self.wanted is not None else skip_by_name(path):
                        drops["not-shell"] += 1
                    else:
                        yield from _tar_entry(tf, member, path)
        self.license = self._license(copyright_text, doc_link)

    def _license(self, copyright_text: str | None, doc_link: str | None) -> str:
        if copyright_text is not None:
            return from_debian_copyright(copyright_text)
        # `-data`/`-common` packages often link their doc dir to the main package's.
        if doc_link and "/" not in doc_link.strip("/") and PACKAGE_NAME.match(doc_link.strip("/")):
            try:
                with open(
                    os.path.join(self.doc_root, doc_link.strip("/"), "copyright"),
                    encoding="utf-8",
                    errors="replace",
                ) as fh:
                    return from_debian_copyright(fh.read(COPYRIGHT_LIMIT))
            except OSError:
                pass
        return UNKNOWN


def _tar_entry(tf: tarfile.TarFile, member: tarfile.TarInfo, path: str) -> Iterator[Entry]:
    extracted = tf.extractfile(member)
    if extracted is None:
        return
    head = extracted.read(HEAD_BYTES)
    yield Entry(path, member.size, head, lambda: head + extracted.read())


# --- apt-get download ---------------------------------------------------------------
_URI_LINE = re.compile(r"^'(?P<uri>[^']+)' (?P<file>\S+\.deb) (?P<size>\d+) (?P<hash>\S+)")
_E_PACKAGE = re.compile(r"package '?([a-z0-9][a-z0-9+.\-]+)'?", re.I)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _cached_ok(path: Path, size: int, hash_field: str) -> bool:
    if not path.is_file() or path.stat().st_size != size:
        return False
    kind, _, value = hash_field.partition(":")
    return kind.upper() != "SHA256" or _sha256(path) == value.lower()


def _apt(args: list[str], cwd: Path | None, timeout: float) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LC_ALL="C", DEBIAN_FRONTEND="noninteractive")
    try:
        return subprocess.run(
            ["apt-get", "-q", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise InputError(
            f"apt-get {args[0]} took longer than {timeout:.0f}s; check the network or use fewer packages"
        ) from exc


def fetch_debs(
    packages: tuple[str, ...], cache_dir: Path, timeout: float, warn: Callable[[str], None]
) -> list[Path]:
    """Download (or find in the cache) the candidate .deb of each package; unknown names are warned about."""
    if not packages:
        return []
    if shutil.which("apt-get") is None:
        warn(
            "apt-get not found: --debian/--debian-default need Debian or Ubuntu's apt; pass .deb files with --deb-file PATH"
        )
        return []
    names = sorted(set(packages))
    for bad in [n for n in names if not PACKAGE_NAME.match(n)]:
        warn(f"--debian {bad!r} is not a Debian package name; use lower-case names like bash-completion")
    names = [n for n in names if PACKAGE_NAME.match(n)]
    if not names:
        return []
    proc = _apt(["download", "--print-uris", *names], None, timeout)
    wanted: dict[str, tuple[str, int, str]] = {}
    for line in proc.stdout.splitlines():
        m = _URI_LINE.match(line)
        if m:
            filename = m.group("file")
            wanted[filename] = (filename.split("_", 1)[0], int(m.group("size")), m.group("hash"))
    for line in proc.stderr.splitlines():
        if not line.startswith("E:"):
            continue
        m = _E_PACKAGE.search(line)
        if m:
            warn(
                f"debian package {m.group(1)!r} is not available from apt ({line[3:].strip()}); check the name or run apt-get update"
            )
        else:
            warn(f"apt-get: {line[3:].strip()}")
    if proc.returncode != 0 and not wanted:
        return []
    debdir = cache_dir / "debian"
    try:
        debdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        warn(f"cannot create the package cache {debdir} ({exc.strerror}); pass a writable --cache-dir")
        return []
    missing = sorted(f for f, (_, size, digest) in wanted.items() if not _cached_ok(debdir / f, size, digest))
    if missing:
        _download(missing, wanted, debdir, timeout, warn)
    return sorted((debdir / f for f in wanted if (debdir / f).is_file()), key=lambda p: p.name)


def _download(
    missing: list[str],
    wanted: dict[str, tuple[str, int, str]],
    debdir: Path,
    timeout: float,
    warn: Callable[[str], None],
) -> None:
    # Download into a fresh directory and move verified files into the cache,
    # so an interrupted download never leaves a half .deb under a real name.
    tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=debdir))
    try:
        specs = []
        for filename in missing:
            package, version = unquote(filename).split("_")[:2]
            specs.append(f"{package}={version}")
        proc = _apt(["download", *specs], tmp, timeout)
        for line in proc.stderr.splitlines():
            if line.startswith("E:"):
                warn(f"apt-get download: {line[3:].strip()}")
        for filename in missing:
            got = tmp / filename
            _, size, digest = wanted[filename]
            if _cached_ok(got, size, digest):
                os.replace(got, debdir / filename)
            elif got.exists():
                warn(f"{filename} did not match apt's checksum; skipped (re-run to download it again)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def deb_inputs(files: list[Path]) -> list[DebInput]:
    """One input per .deb, in file-name order (package inputs are re-keyed by their control data)."""
    for f in files:
        if f.is_dir():
            raise BashcoderError(f"--deb-file {f} is a directory; pass the path of a .deb package.")
        if not f.is_file():
            raise BashcoderError(f"--deb-file {f}: no such file; pass the path of a .deb package.")
    return [DebInput(f) for f in sorted(set(files), key=lambda p: (p.name, str(p)))]
