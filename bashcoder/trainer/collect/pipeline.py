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
from bashcoder.trainer.collect.boilerplate import strip_boilerplate
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
from bashcoder.trainer.collect.sources.docs import TldrInput, man_inputs
from bashcoder.trainer.collect.sources.git import git_inputs
from bashcoder.trainer.paths import make_output_dir


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/bashcoder, or ~/.cache/bashcoder (also for a relative XDG_CACHE_HOME, which
    the XDG spec says to ignore: it would fill whatever folder collect runs in)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = str(Path.home() / ".cache")
    return Path(base) / "bashcoder"


def check_cache_dir(cache: Path, given: bool) -> None:
    """BashcoderError, once and up front, when the download cache cannot be made or written (each
    source was skipped with a 'Not a directory' of its own)."""
    flag = (
        "--cache-dir"
        if given
        else "the download cache (from $XDG_CACHE_HOME or ~/.cache; move it with --cache-dir DIR)"
    )
    make_output_dir(cache, flag)
    if not os.access(cache, os.W_OK | os.X_OK):
        raise BashcoderError(
            f"{flag} {cache} is not writable; pass --cache-dir DIR naming a directory you can write."
        )


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
    removed: Counter[str] = field(default_factory=Counter)
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
            "removed": dict(sorted(self.removed.items())),
        }


@dataclass
class Result:
    """A finished run: the manifest, the corpus bytes, and whether they were written."""

    manifest: dict[str, object]
    corpus: bytes
    written: bool
    warnings: list[str]
    added: int = 0
    """Files in the corpus now that were not in it before this run."""
    removed: int = 0
    """Files that were in the corpus before this run and are not now (filters, dedup, a rescan)."""


def clean_text(
    path: str,
    data_text: str,
    cfg: FilterConfig,
    drops: Counter[str],
    secrets: Counter[str],
    removed: Counter[str],
) -> str | None:
    """Quality-filter, scrub and strip boilerplate from one decoded script; None (drop counted) when rejected.

    Boilerplate goes before the size check runs again, so a maintainer
    script that was only a debhelper section is dropped as too small.
    """
    reason = quality_reason(path, data_text, cfg)
    if reason is not None:
        drops[reason] += 1
        return None
    scrubbed = scrub(data_text)
    secrets.update(scrubbed.counts)
    stripped = strip_boilerplate(scrubbed.text)
    removed.update(stripped.counts)
    reason = size_reason(len(stripped.text.encode("utf-8")), cfg)
    if reason is not None:
        drops[reason] += 1
        return None
    return stripped.text


def process_entry(
    entry: Entry, cfg: FilterConfig, scan: Scan, location: str = "", converted: bool = False
) -> tuple[str, str | None] | None:
    """detect -> size -> read -> decode -> filters -> scrub -> strip for one raw file; None when dropped.

    Returns the cleaned text and the SPDX id its header declared (read
    before the header is stripped), or None. A `converted` entry is shell text
    its input made (documentation examples): there is nothing to detect.
    """
    if not converted:
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
    cleaned = clean_text(entry.path, text, cfg, scan.drops, scan.secrets, scan.removed)
    return None if cleaned is None else (cleaned, spdx_header(text))


def license_ok(source: str, license_id: str, cfg: CollectConfig) -> bool:
    """The license rule: git always, every source under --permissive-only.

    Debian packages, system files and documentation keep their license in the
    record; only GitHub-style repositories of unknown provenance are held to it.
    """
    if source != "git" and not cfg.permissive_only:
        return True
    return allowed(license_id, frozenset(cfg.allow_licenses))


def scan_input(inp: Input, cfg: CollectConfig, bar: Bar) -> Scan:
    """Read every entry of a prepared input into kept records."""
    scan = Scan(inp.source, inp.group)
    texts: list[tuple[str, str, str | None]] = []
    # The source counts what it skips without yielding (symlinks, binaries by name): those were seen too.
    unyielded: Counter[str] = Counter()
    for entry in inp.entries(unyielded):
        scan.scanned += 1
        bar.file(entry.size)
        kept = process_entry(entry, cfg.filters, scan, inp.location, inp.converted)
        if kept is not None:
            texts.append((entry.path, *kept))
            bar.kept(len(kept[0].encode("utf-8")))
    scan.scanned += sum(unyielded.values())
    scan.drops.update(unyielded)
    # Some inputs (packages) only know their license after the whole scan.
    scan.version, scan.license = inp.version, inp.license
    for path, text, header_license in texts:
        file_license = header_license or inp.license_for(path)
        if not license_ok(inp.source, file_license, cfg):
            scan.drops["license-not-allowed"] += 1
            continue
        scan.records.append(Record(text, inp.source, inp.group_for(path), path, file_license))
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

    def docs() -> list[Input]:
        inputs: list[Input] = [
            TldrInput(inner)
            for inner in git_inputs(cfg.tldr, cache, cfg.git_timeout, reporter.warn, "--tldr")
        ]
        if cfg.man:
            debs = fetch_debs(cfg.man_packages, cache, cfg.apt_timeout, reporter.warn)
            inputs += man_inputs(debs, warn=reporter.warn)
        return inputs

    yield "docs", docs


def collect(cfg: CollectConfig, reporter: Reporter) -> Result:
    """Run every source, merge with what --out holds, deduplicate, and write (unless --dry-run)."""
    if cfg.out.exists() and not cfg.out.is_dir():  # before the manifest is read from inside it
        raise BashcoderError(f"--out {cfg.out} is a file; name a directory.")
    cache = cfg.cache_dir or default_cache_dir()
    if cfg.git_urls or cfg.debian_packages or cfg.tldr or cfg.man:  # the sources that download
        check_cache_dir(cache, given=cfg.cache_dir is not None)
    existing = corpus_io.read_corpus(cfg.out)
    previous = corpus_io.read_manifest(cfg.out, reporter.warn)
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
    if attempted and failed == attempted:
        kept_as_is = f"; {cfg.out}/corpus.jsonl was left as it was" if existing else ""
        raise BashcoderError(
            "nothing was collected: every source failed (see the warnings above)"
            f"{kept_as_is}; fix them and re-run."
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
        removed: Counter[str] = Counter(dict(info.get("removed", {})))  # type: ignore[arg-type]
        text = clean_text(record.path, record.text, cfg.filters, drops, secrets, removed)
        if text is not None and not license_ok(record.source, record.license, cfg):
            drops["license-not-allowed"] += 1
            text = None
        info["drops"], info["secrets"], info["removed"] = dict(drops), dict(secrets), dict(removed)
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
    before = {r.sort_key for r in existing}
    now = {r.sort_key for r in kept}
    added, removed = len(now - before), len(before - now)
    if not kept:
        return Result(manifest, data, False, reporter.warnings, added, removed)
    if not cfg.dry_run:
        corpus_io.write_corpus(cfg.out, data, manifest)
    return Result(manifest, data, not cfg.dry_run, reporter.warnings, added, removed)
