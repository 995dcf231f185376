"""What the user sees: a tqdm bar per source, one-line warnings, the summary table at the end.

Bars and warnings go to stderr (stdout carries only the summary); the summary
is a pure function of the manifest so tests can read it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO

from tqdm import tqdm


class Bar:
    """Counts files and bytes for one source; shows files/s, MB seen and the shell scripts found so far."""

    def __init__(self, bar: tqdm) -> None:
        self.bar = bar
        self.read_bytes = 0
        self.kept_files = 0
        self.kept_bytes = 0

    def file(self, nbytes: int) -> None:
        self.read_bytes += nbytes
        self.bar.update(1)
        if self.bar.n % 256 == 0:
            self._postfix()

    def advance(self, n: int) -> None:
        self.bar.update(n)

    def kept(self, nbytes: int) -> None:
        self.kept_files += 1
        self.kept_bytes += nbytes

    def label(self, text: str) -> None:
        self.bar.set_description_str(text, refresh=False)

    def _postfix(self) -> None:
        self.bar.set_postfix_str(
            f"{self.read_bytes / 1e6:.1f} MB seen, {self.kept_files} scripts ({self.kept_bytes / 1e6:.2f} MB)",
            refresh=False,
        )

    def close(self) -> None:
        self._postfix()
        self.bar.close()


class Reporter:
    """Progress bars and warnings for one run."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.warnings: list[str] = []

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        tqdm.write(f"warning: {message}", file=self.stream)

    @contextmanager
    def bar(self, desc: str, total: int | None = None, unit: str = " files") -> Iterator[Bar]:
        # disable=None turns bars off when stderr is not a terminal (CI logs, pipes).
        inner = tqdm(
            desc=desc,
            total=total,
            unit=unit,
            file=self.stream,
            disable=True if self.quiet else None,
            dynamic_ncols=True,
            mininterval=0.5,
            leave=True,
        )
        bar = Bar(inner)
        try:
            yield bar
        finally:
            bar.close()


def _mb(nbytes: int) -> str:
    return f"{nbytes / 1e6:,.2f}"


def _table(title: str, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [title]

    def fmt(row: tuple[str, ...]) -> str:
        cells = (
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        return "  " + "  ".join(cells)

    lines.append(fmt(header))
    lines.extend(fmt(r) for r in rows)
    return lines


def summary(
    manifest: Mapping[str, Any],
    out: str,
    minutes: float,
    dry_run: bool,
    top_licenses: int = 12,
    change: tuple[int, int] | None = None,
) -> str:
    """The end-of-run table: per source, per license, drops by reason, secrets replaced, where it went."""
    inputs: Mapping[str, Mapping[str, Any]] = manifest.get("inputs", {})
    scanned: dict[str, int] = {}
    n_inputs: dict[str, int] = {}
    for info in inputs.values():
        src = str(info.get("source", "?"))
        scanned[src] = scanned.get(src, 0) + int(info.get("scanned", 0))
        n_inputs[src] = n_inputs.get(src, 0) + 1
    by_source: Mapping[str, Mapping[str, int]] = manifest.get("by_source", {})
    sources = sorted(set(by_source) | set(n_inputs))
    rows = [
        (
            s,
            f"{n_inputs.get(s, 0):,}",
            f"{scanned.get(s, 0):,}",
            f"{by_source.get(s, {}).get('files', 0):,}",
            _mb(by_source.get(s, {}).get("bytes", 0)),
        )
        for s in sources
    ]
    rows.append(
        (
            "total",
            f"{sum(n_inputs.values()):,}",
            f"{sum(scanned.values()):,}",
            f"{manifest.get('files', 0):,}",
            _mb(int(manifest.get("bytes", 0))),
        )
    )
    lines = _table("sources", rows, ("source", "inputs", "files seen", "kept", "MB"))

    licenses = sorted(manifest.get("by_license", {}).items(), key=lambda kv: (-kv[1]["bytes"], kv[0]))
    lic_rows = [(name, f"{v['files']:,}", _mb(v["bytes"])) for name, v in licenses[:top_licenses]]
    if len(licenses) > top_licenses:
        rest = licenses[top_licenses:]
        lic_rows.append(
            (
                f"({len(rest)} more)",
                f"{sum(v['files'] for _, v in rest):,}",
                _mb(sum(v["bytes"] for _, v in rest)),
            )
        )
    if lic_rows:
        lines += ["", *_table("licenses", lic_rows, ("license", "files", "MB"))]

    drops = sorted(manifest.get("drops", {}).items(), key=lambda kv: (-kv[1], kv[0]))
    if drops:
        lines += ["", *_table("dropped", [(k, f"{v:,}") for k, v in drops], ("reason", "files"))]
    secrets = manifest.get("secrets", {})
    if secrets:
        detail = ", ".join(f"{k} {v}" for k, v in sorted(secrets.items(), key=lambda kv: (-kv[1], kv[0])))
        lines += ["", f"secrets replaced: {sum(secrets.values()):,} ({detail})"]
    removed = manifest.get("removed", {})
    if removed:
        detail = ", ".join(f"{k} {v}" for k, v in sorted(removed.items(), key=lambda kv: (-kv[1], kv[0])))
        lines += ["", f"boilerplate removed: {sum(removed.values()):,} ({detail})"]
    verb = "would write" if dry_run else "wrote"
    # A run into an existing corpus merges with it: say what this run changed, not just the total.
    delta = ""
    if change is not None:
        added, removed = change
        delta = f" ({added:,} new, {removed:,} removed)" if added or removed else " (no change: nothing new)"
    lines += [
        "",
        f"{verb} {manifest.get('files', 0):,} files{delta}, {_mb(int(manifest.get('bytes', 0)))} MB to "
        f"{out}/corpus.jsonl (+ manifest.json) in {minutes:.1f} min",
    ]
    return "\n".join(lines)
