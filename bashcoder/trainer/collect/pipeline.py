"""One collection run: inputs -> detect -> filter -> scrub -> license -> merge -> dedup -> corpus.

Owns the order of the stages and the bookkeeping (what each input saw and
dropped). The stages themselves are pure functions in detect, filters,
secrets, license and dedup; sources and corpus do the I/O.

Merging: records already in --out re-enter the pipeline beside the new ones
(filtered and scrubbed again, both idempotent) unless their input was
re-scanned now, in which case the new scan replaces them. Deduplication then
runs over the whole sorted union, so running A then B into one directory
gives the same corpus as running A and B together.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import bashcoder
from bashcoder.engine.errors import BashcoderError
from bashcoder.trainer.collect import corpus as corpus_io
from bashcoder.trainer.collect.config import CollectConfig, FilterConfig
from bashcoder.trainer.collect.corpus import Record
from bashcoder.trainer.collect.dedup import deduplicate
from bashcoder.trainer.collect.detect import decode, detect
from bashcoder.trainer.collect.filters import quality_reason, size_reason
from bashcoder.trainer.collect.license import allowed, spdx_header
from bashcoder.trainer.collect.progress import Bar, Reporter
from bashcoder.trainer.collect.secrets import scrub
from bashcoder.trainer.collect.sources import Entry, Input, InputError
from bashcoder.trainer.collect.sources.debian import deb_inputs, fetch_debs
from bashcoder.trainer.collect.sources.dirs import dir_inputs
from bashcoder.trainer.collect.sources.git import git_inputs


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/bashcoder, or ~/.cache/bashcoder."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bashcoder"


@dataclass
class Scan:
    """What one input produced: its kept candidates and its bookkeeping for the manifest."""

    source: str
    group: str
    version: str = ""
    license: str = ""
    scanned: int = 0
    drops: Counter[str] = field(default_factory=Counter)
    secrets: Counter[str] = field(default_factory=Counter)
    records: list[Record] = field(default_factory=list)

    def info(self) -> dict[str, object]:
        return {
            "source": self.source,
            "group": self.group,
            "version": self.version,
            "license": self.license,
            "scanned": self.scanned,
            "drops": dict(sorted(self.drops.items())),
            "secrets": dict(sorted(self.secrets.items())),
        }


@dataclass
class Result:
    """A finished run: the manifest, the corpus bytes, and whether they were written."""

    manifest: dict[str, object]
    corpus: bytes
    written: bool
    warnings: list[str]


def clean_text(
    path: str, data_text: str, cfg: FilterConfig, drops: Counter[str], secrets: Counter[str]
) -> str | None:
    """Quality-filter and scrub one decoded script; None (with the drop counted) when it is rejected."""
    reason = quality_reason(path, data_text, cfg)
    if reason is not None:
        drops[reason] += 1
        return None
    scrubbed = scrub(data_text)
    secrets.update(scrubbed.counts)
    return scrubbed.text


def process_entry(entry: Entry, cfg: FilterConfig, scan: Scan, location: str = "") -> str | None:
    """detect -> size -> read -> decode -> filters -> scrub for one raw file; None when dropped."""
    verdict = detect(f"{location.rstrip('/')}/{entry.path}" if location else entry.path, entry.head)
    if verdict.shell is None:
        scan.drops[verdict.reason or "not-shell"] += 1
        return None
    reason = size_reason(entry.size, cfg)
    if reason is not None:
        scan.drops[reason] += 1
        return None
    try:
        data = entry.read()
    except OSError:
        scan.drops["unreadable"] += 1
        return None
    # The file may have changed since its size was taken.
    reason = size_reason(len(data), cfg)
    if reason is not None:
        scan.drops[reason] += 1
        return None
    text, reason = decode(data)
    if text is None:
        scan.drops[reason or "binary"] += 1
        return None
    return clean_text(entry.path, text, cfg, scan.drops, scan.secrets)


def license_ok(source: str, license_id: str, cfg: CollectConfig) -> bool:
    """The license rule: git always, every source under --permissive-only."""
    if source != "git" and not cfg.permissive_only:
        return True
    return allowed(license_id, frozenset(cfg.allow_licenses))


def scan_input(inp: Input, cfg: CollectConfig, bar: Bar) -> Scan:
    """Read every entry of a prepared input into kept records."""
    scan = Scan(inp.source, inp.group)
    texts: list[tuple[str, str]] = []
    # The source counts what it skips without yielding (symlinks, binaries by name): those were seen too.
    unyielded: Counter[str] = Counter()
    for entry in inp.entries(unyielded):
        scan.scanned += 1
        bar.file(entry.size)
        text = process_entry(entry, cfg.filters, scan, inp.location)
        if text is not None:
            texts.append((entry.path, text))
            bar.kept(len(text.encode("utf-8")))
    scan.scanned += sum(unyielded.values())
    scan.drops.update(unyielded)
    # Some inputs (packages) only know their license after the whole scan.
    scan.version, scan.license = inp.version, inp.license
    for path, text in texts:
        file_license = spdx_header(text) or inp.license_for(path)
        if not license_ok(inp.source, file_license, cfg):
            scan.drops["license-not-allowed"] += 1
            continue
        scan.records.append(Record(text, inp.source, inp.group, path, file_license))
    return scan


def _versions() -> dict[str, str]:
    versions = {"bashcoder": bashcoder.__version__}
    try:
        versions["datasketch"] = importlib.metadata.version("datasketch")
    except importlib.metadata.PackageNotFoundError:
        versions["datasketch"] = "unknown"
    return versions


def _settings(cfg: CollectConfig) -> dict[str, object]:
    return {
        "filters": asdict(cfg.filters),
        "dedup": asdict(cfg.dedup),
        "permissive_only": cfg.permissive_only,
        "allow_licenses": sorted(cfg.allow_licenses),
    }


def _input_groups(
    cfg: CollectConfig, cache: Path, reporter: Reporter
) -> Iterable[tuple[str, Callable[[], list[Input]]]]:
    """(source name, a function making its inputs), made lazily so downloads start only when their turn comes."""
    yield "dir", lambda: list(dir_inputs(cfg.dirs, cfg.system))
    yield "git", lambda: list(git_inputs(cfg.git_urls, cache, cfg.git_timeout, reporter.warn))

    def debian() -> list[Input]:
        files = list(cfg.deb_files)
        if cfg.debian_packages:
            if not reporter.quiet:
                reporter.stream.write(
                    f"debian: fetching {len(set(cfg.debian_packages))} packages with apt-get download\n"
                )
            files += fetch_debs(cfg.debian_packages, cache, cfg.apt_timeout, reporter.warn)
        return list(deb_inputs(files))

    yield "debian", debian


def collect(cfg: CollectConfig, reporter: Reporter) -> Result:
    """Run every source, merge with what --out holds, deduplicate, and write (unless --dry-run)."""
    cache = cfg.cache_dir or default_cache_dir()
    existing = corpus_io.read_corpus(cfg.out)
    previous = corpus_io.read_manifest(cfg.out)
    prev_inputs = previous.get("inputs", {})
    infos: dict[str, dict[str, object]] = dict(prev_inputs) if isinstance(prev_inputs, dict) else {}
    fresh: list[Record] = []
    rescanned: set[str] = set()
    attempted = failed = 0

    for name, make_inputs in _input_groups(cfg, cache, reporter):
        inputs = make_inputs()
        if not inputs:
            continue
        with reporter.bar(name) as bar:
            for inp in inputs:
                attempted += 1
                bar.label(f"{name} {inp.label}")
                try:
                    inp.prepare()
                    scan = scan_input(inp, cfg, bar)
                except InputError as exc:
                    failed += 1
                    reporter.warn(f"{exc}; skipped")
                    continue
                except OSError as exc:
                    # A cache that cannot be written, a file that vanished mid-read: one line, go on.
                    failed += 1
                    reporter.warn(
                        f"{inp.label}: {exc.strerror or exc} ({exc.filename or 'no file'}); skipped"
                    )
                    continue
                finally:
                    inp.cleanup()
                if inp.key in rescanned:
                    reporter.warn(f"{inp.key} was given twice (two .debs of one package?); keeping the first")
                    continue
                rescanned.add(inp.key)
                infos[inp.key] = scan.info()
                fresh.extend(scan.records)
    if attempted and failed == attempted and not existing:
        raise BashcoderError(
            "nothing was collected: every source failed (see the warnings above); fix them and re-run."
        )

    # Earlier records of inputs not scanned now go through the same filters again.
    carried: list[Record] = []
    for record in existing:
        if record.input_key in rescanned:
            continue
        info = infos.setdefault(
            record.input_key,
            {
                "source": record.source,
                "group": record.group,
                "version": "",
                "license": record.license,
                "scanned": 0,
            },
        )
        drops: Counter[str] = Counter(dict(info.get("drops", {})))  # type: ignore[arg-type]
        secrets: Counter[str] = Counter(dict(info.get("secrets", {})))  # type: ignore[arg-type]
        text = clean_text(record.path, record.text, cfg.filters, drops, secrets)
        if text is not None and not license_ok(record.source, record.license, cfg):
            drops["license-not-allowed"] += 1
            text = None
        info["drops"], info["secrets"] = dict(drops), dict(secrets)
        if text is not None:
            carried.append(Record(text, record.source, record.group, record.path, record.license))

    union: dict[tuple[str, str, str], Record] = {}
    for record in [*carried, *fresh]:
        union[record.sort_key] = record
    ordered = [union[k] for k in sorted(union)]
    with reporter.bar("dedup", total=len(ordered), unit=" docs") as bar:
        kept, dropped = deduplicate(ordered, lambda r: r.text, cfg.dedup, progress=bar.advance)
    duplicates: dict[str, Counter[str]] = {}
    for record, reason in dropped:
        duplicates.setdefault(record.input_key, Counter())[reason] += 1

    data = corpus_io.corpus_bytes(kept)
    manifest = corpus_io.build_manifest(
        kept, infos, duplicates, _settings(cfg), _versions(), hashlib.sha256(data).hexdigest()
    )
    if not kept:
        return Result(manifest, data, False, reporter.warnings)
    if not cfg.dry_run:
        corpus_io.write_corpus(cfg.out, data, manifest)
    return Result(manifest, data, not cfg.dry_run, reporter.warnings)
