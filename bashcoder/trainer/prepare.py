"""Turn `data/corpus.jsonl` into token files: split by group, train the tokenizer, encode.

```
data/prepared/<key>/
  tokenizer.json     trained on the training split only
  train.bin val.bin  uint16 token ids, <|endoftext|> before every document
  meta.json          docs, bytes and tokens per split (loss -> bits per byte), data summary
```
`<key>` hashes the corpus bytes and every option that changes the output, so
a second run with the same corpus and options reuses the files and a changed
corpus never meets stale ones. The corpus is streamed, never loaded whole.
Owns reading the corpus; the collector owns writing it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.tokenizer import CharTokenizer, Tokenizer, load_tokenizer, train_tokenizer
from bashcoder.trainer.split import choose_val_groups

PREPARE_FORMAT = 1
CORPUS_FILE = "corpus.jsonl"
MANIFEST_FILE = "manifest.json"
PREPARED_DIR = "prepared"
META_FILE = "meta.json"
TOKENIZER_FILE = "tokenizer.json"
SPLITS = ("train", "val")
# The split must not move when only the training seed changes, or val bpb
# stops being comparable between runs.
SPLIT_SEED = 0
_ENCODE_BATCH = 512  # documents per encode_batch call (HF tokenizers parallelises inside one)


@dataclass(frozen=True)
class Doc:
    """One corpus record, as far as training cares."""

    text: str
    group: str
    source: str
    license: str


@dataclass(frozen=True)
class Prepared:
    """The prepared files of one corpus + options."""

    directory: Path
    meta: dict[str, object]
    tokenizer: Tokenizer

    def bin_path(self, split: str) -> Path:
        return self.directory / f"{split}.bin"

    def split_meta(self, split: str) -> dict[str, int]:
        return self.meta[split]  # type: ignore[return-value]


def read_corpus(path: Path) -> Iterator[Doc]:
    """Stream the records of corpus.jsonl; a malformed line is a one-line error naming it."""
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                text, group = rec["text"], rec["group"]
                if not isinstance(text, str) or not isinstance(group, str):
                    raise TypeError
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise BashcoderError(
                    f"{path} line {number} is not a record with string 'text' and 'group' ({type(exc).__name__}); "
                    "re-run bashcoder-collect to rewrite the corpus."
                ) from exc
            if text:
                yield Doc(text, group, str(rec.get("source", "")), str(rec.get("license", "")))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def prepare_key(corpus_sha256: str, tokenizer: str, vocab_size: int, val_fraction: float) -> str:
    """Cache key of the prepared files: everything that changes their bytes."""
    options = {
        "format": PREPARE_FORMAT,
        "corpus": corpus_sha256,
        "tokenizer": tokenizer,
        "vocab_size": vocab_size if tokenizer == "bpe" else None,
        "val_fraction": val_fraction,
        "split_seed": SPLIT_SEED,
    }
    return hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()[:16]


def prepare(
    data_dir: Path, tokenizer: str = "bpe", vocab_size: int = 8192, val_fraction: float = 0.05
) -> Prepared:
    """Prepared files for the corpus in `data_dir`, built now or found in the cache."""
    corpus = data_dir / CORPUS_FILE
    if not corpus.is_file():
        raise BashcoderError(f"no corpus at {corpus}; run bashcoder-collect first or pass --data DIR.")
    digest = file_sha256(corpus)
    key = prepare_key(digest, tokenizer, vocab_size, val_fraction)
    dest = data_dir / PREPARED_DIR / key
    if (dest / META_FILE).is_file():
        return load_prepared(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=dest.parent))
    try:
        meta = _build(corpus, tmp, tokenizer, vocab_size, val_fraction)
        meta.update(key=key, corpus_sha256=digest)
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        try:
            tmp.rename(dest)
        except OSError:  # another process finished the same key first; its files are identical
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return load_prepared(dest)


def load_prepared(directory: Path) -> Prepared:
    try:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BashcoderError(
            f"{directory / META_FILE} is unreadable; delete {directory} to prepare again."
        ) from exc
    return Prepared(directory, meta, load_tokenizer(directory / TOKENIZER_FILE))


def _build(corpus: Path, out: Path, kind: str, vocab_size: int, val_fraction: float) -> dict[str, object]:
    group_bytes: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    licenses: Counter[str] = Counter()
    for doc in read_corpus(corpus):
        group_bytes[doc.group] += len(doc.text.encode("utf-8"))
        sources[doc.source] += 1
        licenses[doc.license] += 1
    if not group_bytes:
        raise BashcoderError(
            f"the corpus {corpus} holds no documents; run bashcoder-collect on some bash sources."
        )
    val_groups = choose_val_groups(group_bytes, val_fraction, SPLIT_SEED)

    def texts(split: str) -> Iterator[str]:
        want_val = split == "val"
        return (d.text for d in read_corpus(corpus) if (d.group in val_groups) == want_val)

    tok = _train_tokenizer(kind, vocab_size, texts("train"))
    tok.save(out / TOKENIZER_FILE)
    meta: dict[str, object] = {
        "format": PREPARE_FORMAT,
        "tokenizer": tok.kind,
        "vocab_size": tok.vocab_size,
        "val_fraction": val_fraction,
        "split_seed": SPLIT_SEED,
        "sources": dict(sources.most_common()),
        "licenses": dict(licenses.most_common()),
        "manifest": read_manifest(corpus.parent / MANIFEST_FILE),
    }
    for split in SPLITS:
        stats = _encode(tok, texts(split), out / f"{split}.bin")
        groups = sorted(g for g in group_bytes if (g in val_groups) == (split == "val"))
        stats["groups"] = len(groups)
        meta[split] = stats
    meta["val_groups"] = sorted(val_groups)
    return meta


def _train_tokenizer(kind: str, vocab_size: int, texts: Iterator[str]) -> Tokenizer:
    if kind == "char":
        return CharTokenizer()
    tok = train_tokenizer(texts, vocab_size=vocab_size)
    if tok.vocab_size < vocab_size:
        raise BashcoderError(
            f"--vocab-size {vocab_size} is too large for this corpus: BPE found only {tok.vocab_size} tokens "
            f"in the training split; pass --vocab-size {tok.vocab_size} or less, or collect more data."
        )
    return tok


def _encode(tok: Tokenizer, texts: Iterator[str], path: Path) -> dict[str, int]:
    """Write `<eot> doc <eot> doc ...` as uint16 to `path`; return docs, bytes and tokens."""
    eot = tok.eot_id
    docs = n_bytes = n_tokens = 0
    with path.open("wb") as fh:
        batch: list[str] = []

        def flush() -> None:
            nonlocal docs, n_bytes, n_tokens
            encoded = (
                tok.encode_batch(batch) if hasattr(tok, "encode_batch") else [tok.encode(t) for t in batch]
            )
            for text, ids in zip(batch, encoded, strict=True):
                arr = np.asarray([eot, *ids], dtype=np.int64)
                if arr.max() >= 1 << 16:
                    raise BashcoderError("token ids do not fit uint16; use --vocab-size 65536 or less.")
                arr.astype(np.uint16).tofile(fh)
                docs += 1
                n_bytes += len(text.encode("utf-8"))
                n_tokens += len(arr)
            batch.clear()

        for text in texts:
            batch.append(text)
            if len(batch) >= _ENCODE_BATCH:
                flush()
        if batch:
            flush()
    return {"docs": docs, "bytes": n_bytes, "tokens": n_tokens}


def read_manifest(path: Path) -> dict[str, object]:
    """The collector's manifest, top-level scalars only (for the model card); {} when absent or odd."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if isinstance(v, str | int | float | bool)}


def token_byte_lengths(tok: Tokenizer) -> np.ndarray:
    """UTF-8 bytes each token id stands for; special tokens count 0.

    Byte-level BPE writes each byte as one character of its alphabet, so a
    vocabulary entry's length is its byte count; decoding single ids would
    not do, because a token may hold half of a UTF-8 character.
    """
    lengths = np.zeros(tok.vocab_size, dtype=np.int64)
    if tok.kind == "char":
        lengths[:256] = 1
    else:
        vocab = json.loads(tok.to_json())["model"]["vocab"]
        for piece, idx in vocab.items():
            lengths[idx] = len(piece)
    lengths[sorted(tok.special_ids)] = 0
    return lengths
