"""Training batches: random windows of the memory-mapped token file, with FIM per document chunk.

The token file is never read whole: each window is a slice of a numpy
memmap. Within a window every document chunk (the stretch after an
<|endoftext|>, or the window's start) is, with probability `fim_rate`,
rearranged into a fill-in-the-middle example, PSM or SPM with equal odds.
A share of those (`line_rate`) cut at line boundaries instead of anywhere:
the middle is one or a few whole lines, as an editor asks at a line start.
The sampler's whole state is its RNG, which serialises to JSON for resume.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bashcoder.engine.fim import FimTokens, fim_permute

# Markers fim_permute adds around a chunk: <|fim_prefix|>, <|fim_suffix|>, <|fim_middle|>.
FIM_OVERHEAD = 3


# Lines in a line-aligned middle: 1 with odds 1/2, 2 with 1/4, ... (a geometric
# draw, mean 2), so the next line dominates as in editor requests and a block
# of several lines still occurs.
LINE_MIDDLE_P = 0.5


def line_cuts(newlines: np.ndarray, rng: np.random.Generator) -> tuple[int, int] | None:
    """Two cuts at line boundaries of a chunk: the middle is k >= 1 whole lines.

    `newlines` holds the chunk's positions of tokens that contain a newline
    (sorted). The middle starts at one of them (the newline and the next
    line's indentation are often one token, which token healing lets the model
    rewrite at serving time) and ends before the k-th next one, so the suffix
    starts with the newline that ends the middle's last line: exactly the cut of
    a next-line request. None when the chunk has no newline.
    Method: spans that follow the code's structure instead of random ones, as
    aiXcoder-7B's structured FIM does with syntax-tree nodes (Jiang et al.
    2024, arXiv:2410.13187), here at line granularity. Off by default: a
    1.5M-token CPU fine-tune with it moved the next-line probes by noise only
    (docs/recipe.md); a run from scratch is the real test.
    """
    if len(newlines) == 0:
        return None
    i = int(rng.integers(0, len(newlines)))
    k = int(rng.geometric(LINE_MIDDLE_P))
    start = int(newlines[i])
    end = int(newlines[i + k]) if i + k < len(newlines) else -1
    return start, end


def fim_window(
    window: np.ndarray,
    rng: np.random.Generator,
    rate: float,
    t: FimTokens,
    line_rate: float = 0.0,
    has_newline: np.ndarray | None = None,
) -> np.ndarray:
    """Apply FIM to the document chunks of `window`; the result has the same length.

    `has_newline` (vocabulary size, bool) marks the tokens holding a newline;
    with it, a FIM example is cut at line boundaries (`line_cuts`) with
    probability `line_rate`, at two uniform token positions otherwise.

    Chunks start at the window start and at every <|endoftext|> (which stays
    in front of its chunk, where generation expects a document start). A FIM
    example adds three markers, so the text after it moves right and the
    window's tail falls off; a chunk that would not fit whole is shortened
    *before* it is rearranged, so each FIM example holds every token of the
    stretch it was built from.
    """
    n = len(window)
    if rate <= 0 or n == 0:
        return window
    starts = np.flatnonzero(window == t.eot).tolist()
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    pieces: list[np.ndarray] = []
    used = 0
    for i, start in enumerate(starts):
        room = n - used
        if room <= 0:
            break
        end = starts[i + 1] if i + 1 < len(starts) else n
        chunk = window[start:end]
        lead = 1 if chunk[0] == t.eot else 0
        body = chunk[lead : max(lead, room - FIM_OVERHEAD)]
        if len(body) > 0 and rng.random() < rate:
            cut1, cut2 = rng.integers(0, len(body) + 1, size=2)
            if has_newline is not None and line_rate > 0 and rng.random() < line_rate:
                cuts = line_cuts(np.flatnonzero(has_newline[body]), rng)
                if cuts is not None:
                    cut1, cut2 = cuts[0], (len(body) if cuts[1] < 0 else cuts[1])
            order = "psm" if rng.random() < 0.5 else "spm"
            permuted = fim_permute(body.tolist(), int(cut1), int(cut2), t, order)
            piece = np.asarray([t.eot] * lead + permuted, dtype=window.dtype)
        else:
            piece = chunk[:room]
        pieces.append(piece)
        used += len(piece)
    out = np.concatenate(pieces)
    assert len(out) == n, (len(out), n)  # the pieces always fill the window exactly
    return out


class WindowSampler:
    """Draws (x, y) batches of `seq_len` tokens from a uint16 token file."""

    def __init__(
        self,
        path: Path,
        seq_len: int,
        batch_size: int,
        fim_rate: float,
        fim_tokens: FimTokens,
        seed: int,
        rank: int = 0,
        fim_line_rate: float = 0.0,
        has_newline: np.ndarray | None = None,
    ) -> None:
        self.tokens = np.memmap(path, dtype=np.uint16, mode="r")
        self.seq_len, self.batch_size = seq_len, batch_size
        self.fim_rate, self.fim_tokens = fim_rate, fim_tokens
        self.fim_line_rate, self.has_newline = fim_line_rate, has_newline
        if len(self.tokens) < seq_len + 1:
            raise ValueError(
                f"{path} holds {len(self.tokens)} tokens, fewer than one window of {seq_len + 1}"
            )
        # Every rank draws its own stream: the seed sequence mixes in the rank.
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, rank])))

    def next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and next-token targets, each (B, T) int64."""
        span = self.seq_len + 1
        starts = self.rng.integers(0, len(self.tokens) - span + 1, size=self.batch_size)
        rows = [
            fim_window(
                np.asarray(self.tokens[s : s + span], dtype=np.int64),
                self.rng,
                self.fim_rate,
                self.fim_tokens,
                self.fim_line_rate,
                self.has_newline,
            )
            for s in starts
        ]
        batch = np.stack(rows)  # (B, T+1)
        return batch[:, :-1], batch[:, 1:]

    def state_dict(self) -> dict[str, object]:
        """JSON-able position in the stream (the RNG's state; windows are drawn from it alone)."""
        return {"bit_generator": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, object]) -> None:
        self.rng.bit_generator.state = state["bit_generator"]
