"""Tokenizers: byte-level BPE (HF tokenizers) and a byte/character-level one.

Both round-trip any text exactly (tabs, CRLF, heredocs, non-ASCII) because
every byte is in the alphabet and nothing is normalised. Both share the same
special tokens and the same small interface, so the rest of the engine never
asks which one it holds.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path

from tokenizers import Tokenizer as HFTokenizer
from tokenizers import decoders, models, pre_tokenizers, trainers

from bashcoder.engine.errors import BashcoderError

EOT = "<|endoftext|>"
FIM_PREFIX = "<|fim_prefix|>"
FIM_SUFFIX = "<|fim_suffix|>"
FIM_MIDDLE = "<|fim_middle|>"
PAD = "<|pad|>"
SPECIAL_TOKENS = (EOT, FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE, PAD)
DEFAULT_VOCAB_SIZE = 8192


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def encodable(text: str) -> str:
    """`text` with lone surrogates (which UTF-8 cannot hold) replaced by U+FFFD, pure.

    Some editors send undecodable file bytes as lone surrogates (`\\udce9` in JSON),
    and Python keeps them in a str; the tokenizer cannot take them. The model
    never saw such text in training, so the replacement character is as good a
    stand-in as any, and the rest of the document is completed as usual.
    """
    return _LONE_SURROGATE.sub("\ufffd", text) if _LONE_SURROGATE.search(text) else text


class Tokenizer(ABC):
    """What the engine needs from a tokenizer."""

    kind: str

    @abstractmethod
    def encode(self, text: str) -> list[int]:
        """Token ids of `text`; special-token strings inside text stay plain text only for `char`."""

    @abstractmethod
    def decode(self, ids: Sequence[int]) -> str:
        """Text of `ids`; special tokens are rendered as their strings."""

    @property
    @abstractmethod
    def vocab_size(self) -> int: ...

    @abstractmethod
    def token_id(self, token: str) -> int: ...

    @abstractmethod
    def to_json(self) -> str:
        """Serialised form stored as `tokenizer.json`."""

    @property
    def eot_id(self) -> int:
        return self.token_id(EOT)

    @property
    def fim_prefix_id(self) -> int:
        return self.token_id(FIM_PREFIX)

    @property
    def fim_suffix_id(self) -> int:
        return self.token_id(FIM_SUFFIX)

    @property
    def fim_middle_id(self) -> int:
        return self.token_id(FIM_MIDDLE)

    @property
    def pad_id(self) -> int:
        return self.token_id(PAD)

    @property
    def special_ids(self) -> frozenset[int]:
        return frozenset(self.token_id(t) for t in SPECIAL_TOKENS)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")


class BpeTokenizer(Tokenizer):
    """Byte-level BPE over HF tokenizers, digits split one by one."""

    kind = "bpe"

    def __init__(self, hf: HFTokenizer) -> None:
        self._hf = hf
        missing = [t for t in SPECIAL_TOKENS if hf.token_to_id(t) is None]
        if missing:
            raise BashcoderError(
                f"tokenizer lacks special tokens {missing}; retrain it with bashcoder-train."
            )
        self._ids = {t: int(hf.token_to_id(t)) for t in SPECIAL_TOKENS}

    def encode(self, text: str) -> list[int]:
        return self._hf.encode(encodable(text), add_special_tokens=False).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self._hf.encode_batch([encodable(t) for t in texts], add_special_tokens=False)]

    def decode(self, ids: Sequence[int]) -> str:
        return self._hf.decode(list(ids), skip_special_tokens=False)

    @property
    def vocab_size(self) -> int:
        return self._hf.get_vocab_size(with_added_tokens=True)

    def token_id(self, token: str) -> int:
        return self._ids[token] if token in self._ids else int(self._hf.token_to_id(token))

    def id_to_token(self, token_id: int) -> str | None:
        """The vocabulary entry of `token_id` (bytes written in GPT-2's byte-to-unicode alphabet)."""
        return self._hf.id_to_token(token_id)

    def to_json(self) -> str:
        return self._hf.to_str(pretty=False)


class CharTokenizer(Tokenizer):
    """One token per byte of UTF-8 (the design's 'quick prototype' tokenizer).

    Bytes rather than code points keep the vocabulary fixed (256 + specials)
    and make every string, including invalid surrogates' neighbours, round-trip.
    """

    kind = "char"
    _N_BYTES = 256

    def encode(self, text: str) -> list[int]:
        out: list[int] = []
        rest = text
        while rest:
            # Specials are whole tokens, as in the BPE tokenizer.
            cut = min((i for i in (rest.find(t) for t in SPECIAL_TOKENS) if i >= 0), default=-1)
            plain = rest if cut < 0 else rest[:cut]
            out.extend(plain.encode("utf-8", errors="surrogatepass"))
            if cut < 0:
                break
            special = next(t for t in SPECIAL_TOKENS if rest.startswith(t, cut))
            out.append(self.token_id(special))
            rest = rest[cut + len(special) :]
        return out

    def decode(self, ids: Sequence[int]) -> str:
        parts: list[str] = []
        buf = bytearray()
        for i in ids:
            if i < self._N_BYTES:
                buf.append(i)
                continue
            parts.append(buf.decode("utf-8", errors="replace"))
            buf.clear()
            parts.append(SPECIAL_TOKENS[i - self._N_BYTES])
        parts.append(buf.decode("utf-8", errors="replace"))
        return "".join(parts)

    @property
    def vocab_size(self) -> int:
        return self._N_BYTES + len(SPECIAL_TOKENS)

    def token_id(self, token: str) -> int:
        return self._N_BYTES + SPECIAL_TOKENS.index(token)

    def to_json(self) -> str:
        return json.dumps({"bashcoder_tokenizer": "char", "specials": list(SPECIAL_TOKENS)})


def _bpe_skeleton() -> HFTokenizer:
    hf = HFTokenizer(models.BPE())
    # No normalizer: whitespace, tabs and CRLF carry meaning in bash.
    hf.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    hf.decoder = decoders.ByteLevel()
    return hf


def train_tokenizer(
    texts: Iterable[str], vocab_size: int = DEFAULT_VOCAB_SIZE, min_frequency: int = 2
) -> BpeTokenizer:
    """Train a byte-level BPE on `texts` (an iterable, streamed)."""
    min_vocab = 256 + len(SPECIAL_TOKENS)
    if vocab_size < min_vocab:
        raise BashcoderError(
            f"vocabulary size {vocab_size} is below {min_vocab} (all bytes + specials); raise it."
        )
    hf = _bpe_skeleton()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    hf.train_from_iterator(texts, trainer=trainer)
    return BpeTokenizer(hf)


def tokenizer_from_json(text: str) -> Tokenizer:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BashcoderError(
            f"tokenizer.json is not valid JSON ({exc.msg}); re-save or retrain the model."
        ) from exc
    if isinstance(raw, dict) and raw.get("bashcoder_tokenizer") == "char":
        return CharTokenizer()
    try:
        return BpeTokenizer(HFTokenizer.from_str(text))
    except Exception as exc:  # tokenizers raises bare Exceptions with long messages
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BashcoderError(
            f"tokenizer.json cannot be read ({first}); re-save or retrain the model."
        ) from exc


def load_tokenizer(path: str | Path) -> Tokenizer:
    p = Path(path)
    if not p.is_file():
        raise BashcoderError(f"{p} is missing; a model directory needs its tokenizer.json.")
    return tokenizer_from_json(p.read_text(encoding="utf-8"))
