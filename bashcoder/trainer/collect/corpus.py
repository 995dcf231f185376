"""The corpus on disk: reading what a previous run left, building the manifest, writing both atomically.

`corpus.jsonl` holds one record per line (text, source, group, path, license,
sha256), sorted by (source, group, path), with no timestamps, so the same
inputs give the same bytes. `manifest.json` sums the corpus up. Both are
written to temporary files in the output directory and renamed into place
with Ctrl-C held back between the two renames: an interrupted run leaves
the previous corpus as it was, never a half one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from bashcoder.engine.errors import BashcoderError
from bashcoder.trainer.paths import make_output_dir

CORPUS_FILE = "corpus.jsonl"
MANIFEST_FILE = "manifest.json"
FORMAT = 1
FIELDS = ("text", "source", "group", "path", "license", "sha256")
DOCS_SOURCE = "docs"


@dataclass(frozen=True)
class Record:
    """One kept script."""

    text: str
    source: str
    group: str
    path: str
    license: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def sort_key(self) -> tuple[str, str, str]:
        return (self.source, self.group, self.path)

    @property
    def input_key(self) -> str:
        """The key of the input that made the record; documentation inputs group their records
        by command family (`docs:tldr/git` comes from input `docs:tldr`)."""
        if self.source == DOCS_SOURCE:
            return f"{self.source}:{self.group.split('/', 1)[0]}"
        return f"{self.source}:{self.group}"

    def to_json(self) -> str:
        line = json.dumps(
            {
                "text": self.text,
                "source": self.source,
                "group": self.group,
                "path": self.path,
                "license": self.license,
                "sha256": self.sha256,
            },
            ensure_ascii=False,
        )
        # Keep one record per physical line for readers that split on Unicode line breaks too.
        return line.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def read_corpus(out: Path) -> list[Record]:
    """Records of an existing corpus.jsonl ([] when there is none); a malformed line is a one-line error."""
    path = out / CORPUS_FILE
    if not path.exists():
        return []
    records = []
    try:
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                    values = [raw[f] for f in FIELDS[:5]]
                    if not all(isinstance(v, str) for v in values):
                        raise TypeError("non-string field")
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise BashcoderError(
                        f"{path} line {number} is not a bashcoder-collect record ({exc.__class__.__name__}); "
                        "move the file away or choose another --out."
                    ) from exc
                records.append(Record(*values))
    except (OSError, UnicodeDecodeError) as exc:
        raise BashcoderError(f"cannot read {path} ({exc}); move it away or choose another --out.") from exc
    return records


def read_manifest(out: Path, warn: Callable[[str], None] | None = None) -> dict[str, object]:
    """The previous manifest, or {} when absent or unreadable (it is rebuilt from the corpus anyway).

    `warn` hears of a manifest that exists but cannot be read: what earlier
    runs counted (files dropped and why) is not in the corpus, so it is lost.
    """
    path = out / MANIFEST_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        if warn is not None:
            warn(
                f"{path} is unreadable ({type(exc).__name__}); it is rebuilt from the corpus, "
                "without earlier runs' counts of dropped files"
            )
        return {}
    if not isinstance(raw, dict):
        if warn is not None:
            warn(
                f"{path} is not a JSON object; it is rebuilt from the corpus, without earlier runs' drop counts"
            )
        return {}
    return raw


def _sizes(records: list[Record], key: str) -> dict[str, dict[str, int]]:
    files: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for r in records:
        k = getattr(r, key)
        files[k] += 1
        sizes[k] += len(r.text.encode("utf-8"))
    return {k: {"files": files[k], "bytes": sizes[k]} for k in sorted(files)}


def corpus_bytes(records: list[Record]) -> bytes:
    """The exact bytes of corpus.jsonl for these records (sorted here, whatever the input order)."""
    return "".join(r.to_json() + "\n" for r in sorted(records, key=lambda r: r.sort_key)).encode("utf-8")


def build_manifest(
    records: list[Record],
    inputs: Mapping[str, Mapping[str, object]],
    duplicates: Mapping[str, Counter[str]],
    settings: Mapping[str, object],
    versions: Mapping[str, str],
    corpus_sha256: str,
) -> dict[str, object]:
    """The manifest (a pure function of its arguments: same inputs, same bytes).

    `inputs` maps input keys to what their scan saw (source, group, version,
    license, scanned, drops, secrets, removed boilerplate); `duplicates` maps input keys to the
    duplicate drops of this run's global deduplication.
    """
    kept = Counter(r.input_key for r in records)
    kept_bytes: Counter[str] = Counter()
    for r in records:
        kept_bytes[r.input_key] += len(r.text.encode("utf-8"))
    drops: Counter[str] = Counter()
    secrets: Counter[str] = Counter()
    removed: Counter[str] = Counter()
    merged: dict[str, dict[str, object]] = {}
    for key in sorted(inputs):
        info = dict(inputs[key])
        scan_drops = Counter({str(k): int(v) for k, v in dict(info.get("drops", {})).items()})  # type: ignore[call-overload]
        dupes = duplicates.get(key, Counter())
        drops.update(scan_drops)
        drops.update(dupes)
        secrets.update({str(k): int(v) for k, v in dict(info.get("secrets", {})).items()})  # type: ignore[call-overload]
        removed.update({str(k): int(v) for k, v in dict(info.get("removed", {})).items()})  # type: ignore[call-overload]
        info["drops"] = dict(sorted(scan_drops.items()))
        info["duplicates"] = dict(sorted(dupes.items()))
        info["kept"] = kept.get(key, 0)
        info["kept_bytes"] = kept_bytes.get(key, 0)
        merged[key] = info
    total_bytes = sum(len(r.text.encode("utf-8")) for r in records)
    return {
        "format": FORMAT,
        "files": len(records),
        "bytes": total_bytes,
        "corpus_sha256": corpus_sha256,
        "by_source": _sizes(records, "source"),
        "by_license": _sizes(records, "license"),
        "drops": dict(sorted(drops.items())),
        "secrets": dict(sorted(secrets.items())),
        "removed": dict(sorted(removed.items())),
        "inputs": merged,
        "settings": dict(settings),
        "versions": dict(sorted(versions.items())),
    }


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    """Defer Ctrl-C until the block ends (main thread only; elsewhere signals cannot arrive anyway)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[object] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if pending:
            raise KeyboardInterrupt


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _temp_write(directory: Path, name: str, data: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        # mkstemp makes 0600 files; the renamed corpus should get the usual permissions.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)


def write_corpus(out: Path, corpus: bytes, manifest: Mapping[str, object]) -> None:
    """Write corpus.jsonl and manifest.json atomically into `out` (created if needed)."""
    make_output_dir(out)
    manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode(
        "utf-8"
    )
    temps: list[Path] = []
    try:
        try:
            temps.append(_temp_write(out, CORPUS_FILE, corpus))
            temps.append(_temp_write(out, MANIFEST_FILE, manifest_bytes))
        except OSError as exc:
            raise BashcoderError(
                f"cannot write into {out} ({exc.strerror}); choose a writable --out."
            ) from exc
        with _sigint_held():
            os.replace(temps[0], out / CORPUS_FILE)
            os.replace(temps[1], out / MANIFEST_FILE)
        temps.clear()
    finally:
        for tmp in temps:
            with contextlib.suppress(OSError):
                tmp.unlink()
    with contextlib.suppress(OSError):
        # Persist the renames themselves.
        dir_fd = os.open(out, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
