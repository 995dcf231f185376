"""`bashcoder-collect`: click options -> trainer/collect/lists.build_config -> pipeline.collect -> summary.

User-facing problems print `error: <message>` and exit 1; Ctrl-C exits 130
and leaves --out as it was.
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from bashcoder.cli.errors import reports_errors
from bashcoder.cli.knobs import FINITE_FLOAT
from bashcoder.engine.errors import BashcoderError
from bashcoder.trainer.collect.config import DedupConfig, FilterConfig

TLDR_URL = "https://github.com/tldr-pages/tldr"


@click.command(name="bashcoder-collect", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("data"),
    show_default=True,
    help="Directory for corpus.jsonl and manifest.json (merged with what is there).",
)
@click.option(
    "--dir",
    "dirs",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="A folder of your own scripts (repeatable).",
)
@click.option(
    "--system",
    is_flag=True,
    help="Scan the OS script locations (/usr, /etc, /opt, dpkg scripts; never your home).",
)
@click.option(
    "--git", "git_urls", multiple=True, metavar="URL", help="A repository to clone, depth 1 (repeatable)."
)
@click.option(
    "--git-list",
    "git_lists",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="A file of repository URLs, one per line.",
)
@click.option(
    "--git-default", is_flag=True, help="The shipped list of permissive bash repositories (needs internet)."
)
@click.option(
    "--debian",
    multiple=True,
    metavar="PKG...",
    help="Debian packages to apt-get download (repeatable; commas or spaces separate; a path ending in .deb is read as a file).",
)
@click.option(
    "--debian-list",
    "debian_lists",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="A file of Debian package names, one per line.",
)
@click.option(
    "--debian-default",
    is_flag=True,
    help="The shipped list of shell-rich Debian packages, chosen by measured yield.",
)
@click.option(
    "--deb-file",
    "deb_files",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="A local .deb file (repeatable).",
)
@click.option(
    "--tldr",
    multiple=True,
    is_flag=False,
    flag_value=TLDR_URL,
    metavar="[PATH|URL]",
    help=f"Command examples from tldr-pages (CC-BY-4.0): a local clone or bare repository, or a URL  [alone: {TLDR_URL}].",
)
@click.option(
    "--man",
    is_flag=True,
    help="Command lines from the EXAMPLES of installed man pages and of the --debian-default packages' (needs groff).",
)
@click.option(
    "--permissive-only",
    is_flag=True,
    help="Keep only permissive licenses (MIT, Apache-2.0, BSD, ISC, 0BSD, Unlicense, CC0) from every source.",
)
@click.option(
    "--allow-license",
    "allow_licenses",
    multiple=True,
    metavar="ID",
    help="Also accept this SPDX id (repeatable; 'unknown' accepts unlicensed files).",
)
@click.option("--dry-run", is_flag=True, help="Report what would be collected; write nothing.")
@click.option(
    "--min-bytes", type=int, default=FilterConfig.min_bytes, show_default=True, help="Drop smaller scripts."
)
@click.option(
    "--max-bytes", type=int, default=FilterConfig.max_bytes, show_default=True, help="Drop larger scripts."
)
@click.option(
    "--max-line-chars",
    type=int,
    default=FilterConfig.max_line_chars,
    show_default=True,
    help="Drop scripts with a longer line.",
)
@click.option(
    "--min-printable",
    type=FINITE_FLOAT,
    default=FilterConfig.min_printable,
    show_default=True,
    help="Minimum share of printable characters.",
)
@click.option(
    "--base64-run",
    type=int,
    default=FilterConfig.base64_run,
    show_default=True,
    help="Base64 run length that marks an embedded blob.",
)
@click.option(
    "--near-dup-threshold",
    type=FINITE_FLOAT,
    default=DedupConfig.near_threshold,
    show_default=True,
    help="Jaccard similarity (5-gram shingles) at which files are near duplicates.",
)
@click.option(
    "--git-timeout",
    type=FINITE_FLOAT,
    default=300.0,
    show_default=True,
    help="Seconds one clone or fetch may take.",
)
@click.option(
    "--apt-timeout",
    type=FINITE_FLOAT,
    default=900.0,
    show_default=True,
    help="Seconds one apt-get download may take.",
)
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Clones and .debs are kept here  [default: $XDG_CACHE_HOME/bashcoder].",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
@reports_errors(interrupted="interrupted: --out was left as it was")
def main(
    out: Path,
    dirs: tuple[Path, ...],
    system: bool,
    git_urls: tuple[str, ...],
    git_lists: tuple[Path, ...],
    git_default: bool,
    debian: tuple[str, ...],
    debian_lists: tuple[Path, ...],
    debian_default: bool,
    deb_files: tuple[Path, ...],
    tldr: tuple[str, ...],
    man: bool,
    permissive_only: bool,
    allow_licenses: tuple[str, ...],
    dry_run: bool,
    min_bytes: int,
    max_bytes: int,
    max_line_chars: int,
    min_printable: float,
    base64_run: int,
    near_dup_threshold: float,
    git_timeout: float,
    apt_timeout: float,
    cache_dir: Path | None,
    quiet: bool,
) -> None:
    """Build a clean, deduplicated, license-tracked bash corpus from directories, git repositories, Debian packages and documentation examples."""
    start = time.monotonic()
    # Imported here so that --help and argument errors never pay for datasketch/numpy.
    from bashcoder.trainer.collect.lists import build_config
    from bashcoder.trainer.collect.pipeline import collect
    from bashcoder.trainer.collect.progress import Reporter, summary

    cfg = build_config(
        out=out,
        dirs=dirs,
        system=system,
        git_urls=git_urls,
        git_lists=git_lists,
        git_default=git_default,
        debian=debian,
        debian_lists=debian_lists,
        debian_default=debian_default,
        deb_files=deb_files,
        tldr=tldr,
        man=man,
        permissive_only=permissive_only,
        allow_licenses=allow_licenses,
        dry_run=dry_run,
        cache_dir=cache_dir,
        git_timeout=git_timeout,
        apt_timeout=apt_timeout,
        quiet=quiet,
        filters=FilterConfig(min_bytes, max_bytes, max_line_chars, min_printable, base64_run),
        dedup=DedupConfig(near_threshold=near_dup_threshold),
    )
    result = collect(cfg, Reporter(quiet=quiet))
    click.echo(
        summary(
            result.manifest,
            str(cfg.out),
            (time.monotonic() - start) / 60.0,
            cfg.dry_run or not result.written,
            change=(result.added, result.removed) if result.manifest.get("files") else None,
        )
    )
    if not result.manifest.get("files"):
        raise BashcoderError(
            "no shell scripts were kept, so nothing was written; check the drop reasons above or add sources."
        )
