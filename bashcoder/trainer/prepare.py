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
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.tokenizer import CharTokenizer, Tokenizer, load_tokenizer, train_tokenizer
from bashcoder.trainer.split import choose_split, file_key

PREPARE_FORMAT = 2  # 2: val.bin is sorted by source, with each source's token range in meta
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


TOKEN_BYTES = 2
"""Bytes a token id takes in train.bin and val.bin (uint16)."""


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
    with path.open("rb") as fh:  # line by line, so a line that is not UTF-8 is named by its number
        for number, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:  # bashcoder-collect writes JSON escapes, never raw bytes
                raise BashcoderError(
                    f"{path} line {number} is not UTF-8 text; re-run bashcoder-collect to rewrite the corpus."
                ) from exc
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                text, group = rec["text"], rec["group"]
                if not isinstance(text, str) or not isinstance(group, str):
                    raise TypeError
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise BashcoderError(
                    f"{path} line {number} is not a record with string 'text' and 'group' "
                    f"({type(exc).__name__}); re-run bashcoder-collect to rewrite the corpus."
                ) from exc
            if text:
                yield Doc(text, group, str(rec.get("source", "")), str(rec.get("license", "")))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def prepare_key(
    corpus_sha256: str,
    tokenizer: str,
    vocab_size: int,
    val_fraction: float,
    mix: tuple[tuple[str, float], ...] = (),
    base_tokenizer_sha256: str | None = None,
) -> str:
    """Cache key of the prepared files: everything that changes their bytes."""
    options: dict[str, object] = {
        "format": PREPARE_FORMAT,
        "corpus": corpus_sha256,
        "tokenizer": tokenizer,
        "vocab_size": vocab_size if tokenizer == "bpe" else None,
        "val_fraction": val_fraction,
        "split_seed": SPLIT_SEED,
    }
    if base_tokenizer_sha256 is not None:  # a given tokenizer, not one trained here
        options |= {"tokenizer": "given", "vocab_size": None, "base_tokenizer": base_tokenizer_sha256}
    if mix:
        options["mix"] = sorted(mix)
    return hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()[:16]


def prepare(
    data_dir: Path,
    tokenizer: str = "bpe",
    vocab_size: int = 8192,
    val_fraction: float = 0.05,
    mix: tuple[tuple[str, float], ...] = (),
    base_tokenizer: Path | None = None,
) -> Prepared:
    """Prepared files for the corpus in `data_dir`, built now or found in the cache.

    `mix` sets target shares of training tokens per source (see
    `repeat_factors`); the validation split is never resampled.
    `base_tokenizer` (a model's tokenizer.json) encodes the corpus instead of
    a tokenizer trained on it, so that a model's weights can go on training on
    new data (--init-weights); `tokenizer` and `vocab_size` are then unused.
    `data_dir` may also be a prepared directory itself (meta.json,
    tokenizer.json, train.bin, val.bin: what is carried to a GPU machine
    without the corpus); it is used as it is, so `mix` must be empty.

    Raises BashcoderError when there is no corpus, or a mix for prepared files.
    """
    if (data_dir / META_FILE).is_file() and not (data_dir / CORPUS_FILE).is_file():
        if mix:
            raise BashcoderError(
                f"{data_dir} holds prepared files, which are already mixed; "
                "drop --mix or pass the directory with corpus.jsonl."
            )
        return _load_and_warn(data_dir)
    corpus = data_dir / CORPUS_FILE
    if not corpus.is_file():
        raise BashcoderError(f"no corpus at {corpus}; run bashcoder-collect first or pass --data DIR.")
    digest = file_sha256(corpus)
    base_sha = file_sha256(base_tokenizer) if base_tokenizer is not None else None
    key = prepare_key(digest, tokenizer, vocab_size, val_fraction, mix, base_sha)
    dest = data_dir / PREPARED_DIR / key
    if (dest / META_FILE).is_file():
        return _load_and_warn(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=dest.parent))
    try:
        meta = _build(corpus, tmp, tokenizer, vocab_size, val_fraction, mix, base_tokenizer)
        meta.update(key=key, corpus_sha256=digest)
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        try:
            tmp.rename(dest)
        except OSError:  # another process finished the same key first; its files are identical
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return _load_and_warn(dest)


def _load_and_warn(directory: Path) -> Prepared:
    """load_prepared, printing the split's warning on every run, cached or not: it qualifies every val figure."""
    prepared = load_prepared(directory)
    if warning := prepared.meta.get("split_warning"):
        print(warning, file=sys.stderr)
    return prepared


def load_prepared(directory: Path) -> Prepared:
    """The prepared files in `directory`, checked against meta.json.

    BashcoderError when meta.json is unreadable, or a split's .bin is missing
    or not the size meta.json gives (2 bytes a token): a copy cut short or a
    disk that filled up would otherwise train on a fraction of the data, or
    fail deep inside numpy.
    """
    try:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        sizes = {split: int(meta[split]["tokens"]) * TOKEN_BYTES for split in ("train", "val")}
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise BashcoderError(
            f"{directory / META_FILE} is unreadable; delete {directory} to prepare again."
        ) from exc
    for split, want in sizes.items():
        path = directory / f"{split}.bin"
        have = path.stat().st_size if path.is_file() else None
        if have != want:
            found = "is missing" if have is None else f"holds {have:,} bytes"
            raise BashcoderError(
                f"{path} {found}, meta.json says {want:,} ({want // TOKEN_BYTES:,} tokens): it is damaged; "
                f"delete {directory} to prepare again (or copy the prepared files again)."
            )
    return Prepared(directory, meta, load_tokenizer(directory / TOKENIZER_FILE))


def _build(
    corpus: Path,
    out: Path,
    kind: str,
    vocab_size: int,
    val_fraction: float,
    mix: tuple[tuple[str, float], ...],
    base_tokenizer: Path | None = None,
) -> dict[str, object]:
    units: list[tuple[str, str, int]] = []  # (group, file key, bytes) per document, for the split
    unit_source: list[str] = []
    sources: Counter[str] = Counter()
    licenses: Counter[str] = Counter()
    for doc in read_corpus(corpus):
        units.append((doc.group, file_key(doc.text), len(doc.text.encode("utf-8"))))
        unit_source.append(doc.source)
        sources[doc.source] += 1
        licenses[doc.license] += 1
    if not units:
        raise BashcoderError(
            f"the corpus {corpus} holds no documents; run bashcoder-collect on some bash sources."
        )
    split_ = choose_split(units, val_fraction, SPLIT_SEED)
    source_names = set(unit_source)
    train_bytes: Counter[str] = Counter()
    side_groups: dict[bool, set[str]] = {False: set(), True: set()}
    for (group, key, n), source in zip(units, unit_source, strict=True):
        is_val = split_.is_val(group, key)
        side_groups[is_val].add(group)
        if not is_val:
            train_bytes[source] += n
    factors = repeat_factors(train_bytes, dict(mix))

    def in_val(doc: Doc) -> bool:
        # Hashing every text again costs ~0.2 s per 100 MB, and only a by-file split needs it.
        return split_.is_val(doc.group, file_key(doc.text) if split_.by == "file" else "")

    def docs(split: str) -> Iterator[Doc]:
        """The split's documents grouped by source (one pass over the corpus per source), so each
        source is one stretch of the .bin whatever the order of corpus.jsonl."""
        want_val = split == "val"
        for source in sorted(source_names):
            yield from (d for d in read_corpus(corpus) if d.source == source and in_val(d) == want_val)

    # The tokenizer sees the natural training split, whatever the mix, so runs
    # that differ only in their mix share one vocabulary.
    if base_tokenizer is not None:
        tok = load_tokenizer(base_tokenizer)
    else:
        tok = _train_tokenizer(kind, vocab_size, (d.text for d in read_corpus(corpus) if not in_val(d)))
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
        "mix": {name: round(factors[name], 4) for name in sorted(factors)},
    }
    for split in SPLITS:
        weights = factors if split == "train" else {}
        stats = _encode(tok, docs(split), out / f"{split}.bin", weights)
        stats["groups"] = len(side_groups[split == "val"])
        meta[split] = stats
    meta["split"] = split_.by
    meta["val_groups"] = sorted(split_.val) if split_.by == "group" else []
    if split_.warning:
        meta["split_warning"] = split_.warning
    return meta


def repeat_factors(source_bytes: Mapping[str, int], shares: Mapping[str, float]) -> dict[str, float]:
    """How many times each source's documents go into train.bin so the sources reach `shares`.

    `source_bytes`: the training split's bytes per source (bytes stand in
    for tokens, which are not known before encoding). Named sources get
    their share of the result; the others keep their natural size and share
    the rest. When every source is named, the shares are normalised and the
    split keeps its natural total. A factor below 1 drops documents, above 1
    repeats them. BashcoderError when a share names no source of the split,
    or the named shares leave nothing for the others.
    """
    present = {s: n for s, n in source_bytes.items() if n > 0}
    unknown = sorted(set(shares) - set(present))
    if unknown:
        raise BashcoderError(
            f"--mix names {', '.join(unknown)}, which the training split does not hold; "
            f"its sources are {', '.join(sorted(present))}."
        )
    factors = {s: 1.0 for s in present}
    if not shares:
        return factors
    natural = sum(present.values())
    rest = sum(n for s, n in present.items() if s not in shares)
    named_total = sum(shares.values())
    if rest == 0:
        total = float(natural)
        shares = {s: v / named_total for s, v in shares.items()}
    else:
        if named_total >= 1:
            raise BashcoderError(
                f"--mix shares add up to {named_total:g}, leaving nothing for the other sources "
                f"({', '.join(sorted(set(present) - set(shares)))}); name them too, or lower the shares."
            )
        total = rest / (1 - named_total)
    for name, share in shares.items():
        factors[name] = share * total / present[name]
    return factors


def copies(text: str, factor: float) -> int:
    """How many copies of a document a repeat factor asks for: the whole part, plus one more with the
    fractional part's probability, drawn from the text's own hash (the same document, the same answer)."""
    whole = int(factor)
    frac = factor - whole
    if frac <= 0:
        return whole
    draw = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") / 2**64
    return whole + (1 if draw < frac else 0)


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


def _encode(
    tok: Tokenizer, docs: Iterator[Doc], path: Path, factors: Mapping[str, float]
) -> dict[str, object]:
    """Write `<eot> doc <eot> doc ...` as uint16 to `path`, each document as many times as its source's factor asks.

    Returns docs, bytes and tokens written, and `sources`: each source's
    [start, end) token range (the corpus is sorted by source, so each source
    is one stretch), for per-source validation figures.
    """
    eot = tok.eot_id
    docs_n = n_bytes = n_tokens = 0
    ranges: dict[str, list[int]] = {}
    with path.open("wb") as fh:
        batch: list[Doc] = []

        def flush() -> None:
            nonlocal docs_n, n_bytes, n_tokens
            texts = [d.text for d in batch]
            encoded = (
                tok.encode_batch(texts) if hasattr(tok, "encode_batch") else [tok.encode(t) for t in texts]
            )
            for doc, ids in zip(batch, encoded, strict=True):
                times = copies(doc.text, factors[doc.source]) if factors else 1
                if times == 0:
                    continue
                arr = np.asarray([eot, *ids], dtype=np.int64)
                if arr.max() >= 1 << 16:
                    raise BashcoderError("token ids do not fit uint16; use --vocab-size 65536 or less.")
                span = ranges.setdefault(doc.source, [n_tokens, n_tokens])
                for _ in range(times):
                    arr.astype(np.uint16).tofile(fh)
                    docs_n += 1
                    n_bytes += len(doc.text.encode("utf-8"))
                    n_tokens += len(arr)
                span[1] = n_tokens
            batch.clear()

        for doc in docs:
            batch.append(doc)
            if len(batch) >= _ENCODE_BATCH:
                flush()
        if batch:
            flush()
    return {"docs": docs_n, "bytes": n_bytes, "tokens": n_tokens, "sources": ranges}


def read_manifest(path: Path) -> dict[str, object]:
    """The collector's manifest, top-level scalars only (for the model card); {} when absent or odd."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if isinstance(v, str | int | float | bool)}


def newline_tokens(tok: Tokenizer) -> np.ndarray:
    """(vocab_size,) bool: the ids whose text holds a newline (special tokens never do).

    A newline is one whole byte, so decoding a single id shows it even when
    the id holds half of a UTF-8 character elsewhere.
    """
    specials = tok.special_ids
    return np.array(
        [i not in specials and "\n" in tok.decode([i]) for i in range(tok.vocab_size)], dtype=bool
    )


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


def data_identity(prepared: Prepared) -> dict[str, object]:
    """What a run's data must keep across a resume: the corpus and the exact tokenizer.

    The mix (how often each source's documents repeat) may change between a
    run and its resume (`--mix` is in RESUME_FREE_FIELDS): with WSD a
    constant-rate run can move to a new mix, as a curriculum step, because the
    token ids still mean the same thing.
    """
    tokenizer = (prepared.directory / TOKENIZER_FILE).read_bytes()
    return {
        "corpus_sha256": prepared.meta.get("corpus_sha256"),
        "tokenizer_sha256": hashlib.sha256(tokenizer).hexdigest(),
    }
