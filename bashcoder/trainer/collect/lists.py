"""The collector's lists and options: shipped default lists, list files, and merging them into a CollectConfig."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from bashcoder.engine.errors import BashcoderError
from bashcoder.trainer.collect.config import CollectConfig, DedupConfig, FilterConfig

DEFAULT_LISTS = {"git": "git-default.txt", "debian": "debian-default.txt"}


def parse_list_text(text: str) -> list[str]:
    """One item per line; `#` starts a comment; blank lines are ignored."""
    items = []
    for line in text.splitlines():
        item = line.split("#", 1)[0].strip()
        if item:
            items.append(item)
    return items


def default_list(kind: str) -> list[str]:
    """The curated list shipped in bashcoder/trainer/collect/data/."""
    try:
        text = (resources.files("bashcoder.trainer.collect") / "data" / DEFAULT_LISTS[kind]).read_text(
            encoding="utf-8"
        )
    except (OSError, FileNotFoundError) as exc:
        raise BashcoderError(
            f"the --{kind}-default list is missing from this installation; reinstall bashcoder or pass --{kind}-list FILE."
        ) from exc
    return parse_list_text(text)


def read_list_file(path: Path, option: str) -> list[str]:
    """The entries of a list file (one per line, # comments); BashcoderError naming `option` when it
    cannot be read or holds none."""
    try:
        entries = parse_list_text(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BashcoderError(
            f"{option} {path}: cannot read it ({exc.__class__.__name__}); pass a UTF-8 text file."
        ) from exc
    if not entries:
        raise BashcoderError(
            f"{option} {path} lists nothing; write one entry per line (lines starting with # are comments)."
        )
    return entries


def build_config(
    *,
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
    tldr: tuple[str, ...] = (),
    man: bool = False,
    permissive_only: bool,
    allow_licenses: tuple[str, ...],
    dry_run: bool,
    cache_dir: Path | None,
    git_timeout: float,
    apt_timeout: float,
    quiet: bool,
    filters: FilterConfig,
    dedup: DedupConfig,
) -> CollectConfig:
    """Merge repeatable options, list files and default lists into one config."""
    urls = list(git_urls)
    for path in git_lists:
        urls += read_list_file(path, "--git-list")
    if git_default:
        urls += default_list("git")
    packages: list[str] = []
    debs = list(deb_files)
    for value in debian:
        for item in re.split(r"[\s,]+", value.strip()):
            if item.endswith(".deb"):
                debs.append(Path(item))
            elif item:
                packages.append(item)
    for path in debian_lists:
        packages += read_list_file(path, "--debian-list")
    if debian_default:
        packages += default_list("debian")
    return CollectConfig(
        out=out,
        dirs=tuple(dirs),
        system=system,
        git_urls=tuple(dict.fromkeys(urls)),
        debian_packages=tuple(sorted(set(packages))),
        deb_files=tuple(debs),
        tldr=tuple(dict.fromkeys(tldr)),
        man=man,
        man_packages=tuple(sorted(set(default_list("debian")))) if man else (),
        permissive_only=permissive_only,
        allow_licenses=tuple(allow_licenses),
        dry_run=dry_run,
        cache_dir=cache_dir,
        git_timeout=git_timeout,
        apt_timeout=apt_timeout,
        quiet=quiet,
        filters=filters,
        dedup=dedup,
    )
