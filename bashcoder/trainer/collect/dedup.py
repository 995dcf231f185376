"""Duplicate removal: exact (whitespace-normalised hash) and near (MinHash LSH, Jaccard >= 0.7).

Deterministic for a given input order: the first document of a duplicate
cluster wins, so callers sort first. Shingles are 5-grams of tokens (words
and single punctuation characters, the units bash is written in); MinHash
uses a fixed seed and crc32 (stable across runs and processes, unlike
`hash()`), and every LSH hit is confirmed by its estimated Jaccard so that
banding false positives never drop a file.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from bashcoder.trainer.collect.config import DedupConfig

T = TypeVar("T")
_TOKEN = re.compile(r"\w+|[^\w\s]")


def exact_key(text: str) -> bytes:
    """sha256 of the text with every whitespace run collapsed (indentation and CRLF changes collide)."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).digest()


_TOKEN_IDS: dict[str, int] = {}
# Odd 64-bit multiplier for the rolling combination of token ids (from splitmix64).
_MIX = np.uint64(0x9E3779B97F4A7C15)


def _token_id(token: str) -> int:
    found = _TOKEN_IDS.get(token)
    if found is None:
        found = _TOKEN_IDS[token] = zlib.crc32(token.encode("utf-8"))
    return found


def shingle_hashes(text: str, size: int) -> np.ndarray:
    """Distinct 32-bit hashes of the `size`-token shingles (one shingle of all tokens for short texts).

    Token ids are crc32 (stable across processes, unlike `hash()`), combined
    with numpy over each window: joining millions of shingle strings in Python
    took most of the dedup time.
    """
    ids = np.fromiter((_token_id(t) for t in _TOKEN.findall(text)), dtype=np.uint64)
    if ids.size == 0:
        return ids.astype(np.uint32)
    width = min(size, ids.size)
    with np.errstate(over="ignore"):
        h = np.zeros(ids.size - width + 1, dtype=np.uint64)
        for k in range(width):
            h = h * _MIX + ids[k : ids.size - width + 1 + k]
        h ^= h >> np.uint64(29)
        h *= _MIX
        h ^= h >> np.uint64(32)
    return np.unique((h & np.uint64(0xFFFFFFFF)).astype(np.uint32))


class NearDuplicateIndex:
    """Remembers kept documents and answers whether a new one is a near duplicate of any."""

    def __init__(self, cfg: DedupConfig) -> None:
        from datasketch import MinHash, MinHashLSH  # heavy import, only when deduplicating

        self._minhash = MinHash
        self.cfg = cfg
        # LSH only proposes candidates (each is confirmed below), so a slightly lower banding
        # threshold costs little and keeps datasketch's band search valid for thresholds near 1.
        self.lsh = MinHashLSH(threshold=min(cfg.near_threshold, 0.9), num_perm=cfg.num_perm)
        self.kept: dict[str, object] = {}

    def signature(self, text: str) -> object | None:
        hashes = shingle_hashes(text, self.cfg.shingle)
        if hashes.size == 0:
            return None
        # The values are hashes already: the identity keeps datasketch's per-value hashing cheap.
        mh = self._minhash(num_perm=self.cfg.num_perm, seed=1, hashfunc=int)
        mh.update_batch(hashes.tolist())
        return mh

    def add_unless_near(self, key: str, text: str) -> bool:
        """Index `text` and return True, or return False when a kept document is a near duplicate."""
        sig = self.signature(text)
        if sig is None:
            return True
        for other in sorted(self.lsh.query(sig)):
            if sig.jaccard(self.kept[other]) >= self.cfg.near_threshold:  # type: ignore[attr-defined]
                return False
        self.lsh.insert(key, sig)
        self.kept[key] = sig
        return True


def deduplicate(
    docs: Sequence[T],
    text_of: Callable[[T], str],
    cfg: DedupConfig,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[T], list[tuple[T, str]]]:
    """(kept, [(dropped, "duplicate-exact" | "duplicate-near")]) keeping the first of each cluster."""
    seen: set[bytes] = set()
    index = NearDuplicateIndex(cfg)
    kept: list[T] = []
    dropped: list[tuple[T, str]] = []
    for i, doc in enumerate(docs):
        text = text_of(doc)
        key = exact_key(text)
        if key in seen:
            dropped.append((doc, "duplicate-exact"))
        else:
            seen.add(key)
            if index.add_unless_near(str(i), text):
                kept.append(doc)
            else:
                dropped.append((doc, "duplicate-near"))
        if progress is not None:
            progress(1)
    return kept, dropped
