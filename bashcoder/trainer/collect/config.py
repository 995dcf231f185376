"""The collector's settings: frozen dataclasses that the click options map onto one to one."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bashcoder.engine.errors import BashcoderError


@dataclass(frozen=True)
class FilterConfig:
    """Which shell files are good enough to keep."""

    min_bytes: int = 48
    """Smaller files (a lone `exec foo "$@"`) teach nothing and are dropped as too-small."""

    max_bytes: int = 1_000_000
    """Larger files are dropped as too-large; hand-written bash past 1 MB is very rare."""

    max_line_chars: int = 1000
    """A file with any longer line is dropped: such lines are data or minified payloads, not code."""

    min_printable: float = 0.97
    """Minimum share of printable characters (tabs and newlines count as printable)."""

    base64_run: int = 512
    """A base64 run of this many characters (on one line or over consecutive lines) marks an embedded blob."""

    def __post_init__(self) -> None:
        if self.min_bytes < 0 or self.max_bytes <= self.min_bytes:
            raise BashcoderError(
                f"--min-bytes {self.min_bytes} and --max-bytes {self.max_bytes} leave no room; "
                "choose 0 <= min-bytes < max-bytes."
            )
        if self.max_line_chars < 1:
            raise BashcoderError(f"--max-line-chars {self.max_line_chars} must be at least 1.")
        if not 0.0 <= self.min_printable <= 1.0:
            raise BashcoderError(f"--min-printable {self.min_printable} must be between 0 and 1.")
        if self.base64_run < 16:
            raise BashcoderError(f"--base64-run {self.base64_run} must be at least 16.")


@dataclass(frozen=True)
class DedupConfig:
    """How duplicates are found."""

    near_threshold: float = 0.7
    """Jaccard similarity of 5-gram shingle sets at or above which two files are near duplicates."""

    shingle: int = 5
    """Tokens per shingle."""

    num_perm: int = 128
    """MinHash permutations: more is more exact and slower."""

    def __post_init__(self) -> None:
        if not 0.0 < self.near_threshold <= 1.0:
            raise BashcoderError(
                f"--near-dup-threshold {self.near_threshold} must be in (0, 1]; 0.7 is the default."
            )
        if self.shingle < 1 or self.num_perm < 16:
            raise BashcoderError("shingle must be >= 1 and num_perm >= 16.")


@dataclass(frozen=True)
class CollectConfig:
    """One bashcoder-collect run."""

    out: Path = Path("data")
    """Directory that receives corpus.jsonl and manifest.json (merged with what is already there)."""

    dirs: tuple[Path, ...] = ()
    """Directories of the user's own scripts (--dir, repeatable)."""

    system: bool = False
    """Scan the operating system's usual script locations (never the home directory)."""

    git_urls: tuple[str, ...] = ()
    """Repositories to clone (--git, --git-list and --git-default, already merged)."""

    debian_packages: tuple[str, ...] = ()
    """Debian package names to fetch with apt-get download (--debian, --debian-list, --debian-default)."""

    deb_files: tuple[Path, ...] = ()
    """Local .deb files (--deb-file, or a --debian value ending in .deb)."""

    tldr: tuple[str, ...] = ()
    """tldr-pages repositories (a local clone or bare directory, or a URL) whose pages become command examples."""

    man: bool = False
    """Collect the command lines of man pages' EXAMPLES sections (installed pages and `man_packages`)."""

    man_packages: tuple[str, ...] = ()
    """Debian packages whose man pages --man reads too (the --debian-default list)."""

    permissive_only: bool = False
    """Apply the git license rule to every source: keep only permissive (or --allow-license) files."""

    allow_licenses: tuple[str, ...] = ()
    """Extra SPDX ids accepted beside the permissive ones ("unknown" accepts files without a license)."""

    dry_run: bool = False
    """Report what would be collected and write nothing."""

    cache_dir: Path | None = None
    """Where clones and downloaded .debs are kept between runs; None means $XDG_CACHE_HOME/bashcoder."""

    git_timeout: float = 300.0
    """Seconds one git clone or fetch may take before it is abandoned."""

    apt_timeout: float = 900.0
    """Seconds one apt-get download batch may take before it is abandoned."""

    quiet: bool = False
    """No progress bars (the summary is still printed)."""

    filters: FilterConfig = field(default_factory=FilterConfig)
    """Quality filters."""

    dedup: DedupConfig = field(default_factory=DedupConfig)
    """Duplicate detection."""

    def __post_init__(self) -> None:
        if not (
            self.dirs
            or self.system
            or self.git_urls
            or self.debian_packages
            or self.deb_files
            or self.tldr
            or self.man
        ):
            raise BashcoderError(
                "no sources given: pass --dir PATH, --system, --git URL, --debian PKG, --deb-file PATH, "
                "--git-default, --debian-default, --tldr or --man."
            )
        if self.git_timeout <= 0 or self.apt_timeout <= 0:
            raise BashcoderError("timeouts must be positive numbers of seconds.")
