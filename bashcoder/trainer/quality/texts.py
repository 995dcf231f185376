"""Which texts to evaluate on: the corpus's validation split, or a folder of scripts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bashcoder.engine.errors import BashcoderError
from bashcoder.trainer.prepare import CORPUS_FILE, SPLIT_SEED, read_corpus
from bashcoder.trainer.split import choose_split, file_key


@dataclass(frozen=True)
class EvalText:
    """One script to evaluate on."""

    name: str
    text: str
    source: str = "folder"
    """The corpus source it came from (git, debian, docs, dir), or "folder" for --texts."""


def validation_texts(data_dir: Path, val_fraction: float = 0.05) -> list[EvalText]:
    """The validation split exactly as `bashcoder-train` chose it (same groups, same seed)."""
    corpus = data_dir / CORPUS_FILE
    if not corpus.is_file():
        raise BashcoderError(f"no corpus at {corpus}; pass --data DIR with a corpus.jsonl, or --texts DIR.")
    split = choose_split(
        ((d.group, file_key(d.text), len(d.text.encode("utf-8"))) for d in read_corpus(corpus)),
        val_fraction,
        SPLIT_SEED,
    )
    texts = [
        EvalText(f"{d.group}#{i}", d.text, d.source or "unknown")
        for i, d in enumerate(read_corpus(corpus))
        if split.is_val(d.group, file_key(d.text))
    ]
    if not texts:
        raise BashcoderError(f"the validation split of {corpus} is empty; collect from more sources.")
    return texts


def folder_texts(folder: Path, warn: Callable[[str], None] | None = None) -> list[EvalText]:
    """Every UTF-8 regular file under `folder` (sorted); others are skipped, and `warn` hears how many
    (a measurement over fewer files than the folder holds must say so)."""
    if not folder.is_dir():
        raise BashcoderError(f"{folder} is not a directory; pass --texts DIR with bash scripts in it.")
    out: list[EvalText] = []
    skipped: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            skipped.append(str(path.relative_to(folder)))
            continue
        if text.strip():
            out.append(EvalText(str(path.relative_to(folder)), text))
    if not out:
        raise BashcoderError(f"no readable UTF-8 scripts under {folder}; pass a folder of bash scripts.")
    if skipped and warn is not None:
        warn(
            f"warning: skipped {len(skipped)} file(s) under {folder} that are not readable UTF-8 text "
            f"(e.g. {skipped[0]}); the figures cover the other {len(out)}."
        )
    return out
