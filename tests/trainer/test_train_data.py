from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bashcoder.engine.fim import FimTokens
from bashcoder.trainer.data import WindowSampler, fim_window

T = FimTokens(prefix=1, suffix=2, middle=3, eot=0)
SPECIAL = {0, 1, 2, 3}


def documents(draw_lengths: list[int], first: int = 10) -> list[list[int]]:
    """Distinct ordinary tokens (>= 10) so every token's origin is traceable."""
    docs, nxt = [], first
    for n in draw_lengths:
        docs.append(list(range(nxt, nxt + n)))
        nxt += n
    return docs


def undo_fim(piece: list[int]) -> tuple[list[int], str]:
    """Original token order of one FIM example, and its order name."""
    if piece[0] == T.prefix:  # PSM: P prefix S suffix M middle
        s, m = piece.index(T.suffix), piece.index(T.middle)
        return piece[1:s] + piece[m + 1 :] + piece[s + 1 : m], "psm"
    p, m = piece.index(T.prefix), piece.index(T.middle)  # SPM: S suffix P prefix M middle
    return piece[p + 1 : m] + piece[m + 1 :] + piece[1:p], "spm"


def chunks(window: list[int]) -> list[list[int]]:
    """Split at <|endoftext|>, which stays in front of its chunk."""
    out: list[list[int]] = [[]]
    for tok in window:
        if tok == T.eot and out[-1]:
            out.append([])
        out[-1].append(tok)
    return out


@given(st.lists(st.integers(1, 40), min_size=1, max_size=6), st.integers(0, 2**32 - 1), st.integers(0, 3))
@settings(max_examples=300, deadline=None)
def test_fim_keeps_every_token_of_every_chunk(lengths: list[int], seed: int, squeeze: int) -> None:
    docs = documents(lengths)
    window = np.array([tok for doc in docs for tok in [T.eot, *doc]], dtype=np.int64)
    # Room for three markers per chunk when squeeze is 0; tighter windows cut the tail.
    total = len(window) + 3 * len(docs) - squeeze * 7
    window = window[: max(1, min(len(window), total))]
    out = fim_window(window, np.random.default_rng(seed), 1.0, T).tolist()
    assert len(out) == len(window)
    original = window.tolist()
    position = 0
    for chunk in chunks(out):
        lead = 1 if chunk[0] == T.eot else 0
        body = chunk[lead:]
        restored = undo_fim(body)[0] if body and body[0] in (T.prefix, T.suffix) else body
        # Each chunk, once un-rearranged, is exactly the next stretch of the input.
        assert chunk[:lead] + restored == original[position : position + lead + len(restored)]
        position += lead + len(restored)
    assert not set(out) - SPECIAL - set(original)


def test_fim_rate_zero_is_the_identity_and_orders_are_balanced() -> None:
    window = np.array([0, *range(10, 200)], dtype=np.int64)
    assert np.array_equal(fim_window(window, np.random.default_rng(0), 0.0, T), window)
    rng = np.random.default_rng(1)
    orders = [undo_fim(fim_window(window, rng, 1.0, T).tolist()[1:])[1] for _ in range(2000)]
    assert 0.45 < orders.count("psm") / len(orders) < 0.55
    rate = np.mean([fim_window(window, rng, 0.5, T)[1] in (T.prefix, T.suffix) for _ in range(2000)])
    assert 0.45 < rate < 0.55


def make_tokens(tmp_path: Path, n: int = 5000) -> Path:
    path = tmp_path / "train.bin"
    tokens = np.arange(n, dtype=np.uint16) % 500 + 10
    tokens[::97] = T.eot
    tokens.tofile(path)
    return path


def test_sampler_resumes_the_same_stream_from_json(tmp_path: Path) -> None:
    path = make_tokens(tmp_path)
    a = WindowSampler(path, 32, 4, 0.5, T, seed=7)
    for _ in range(3):
        a.next_batch()
    saved = json.loads(json.dumps(a.state_dict()))
    expected = [a.next_batch() for _ in range(3)]
    b = WindowSampler(path, 32, 4, 0.5, T, seed=99)
    b.load_state_dict(saved)
    for (x1, y1), (x2, y2) in zip(expected, [b.next_batch() for _ in range(3)], strict=True):
        assert np.array_equal(x1, x2) and np.array_equal(y1, y2)


def test_batches_are_shifted_windows_and_ranks_draw_their_own(tmp_path: Path) -> None:
    path = make_tokens(tmp_path)
    x, y = WindowSampler(path, 32, 4, 0.0, T, seed=0).next_batch()
    assert x.shape == y.shape == (4, 32) and x.dtype == np.int64
    assert np.array_equal(x[:, 1:], y[:, :-1])
    other, _ = WindowSampler(path, 32, 4, 0.0, T, seed=0, rank=1).next_batch()
    assert not np.array_equal(x, other)
    with pytest.raises(ValueError, match="fewer than one window"):
        WindowSampler(path, 6000, 1, 0.0, T, seed=0)


NL = 5  # a token id standing for a newline in the line-aligned tests


def lines_window(line_lengths: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """One document: lines of distinct ordinary tokens, each line after the first led by NL; then the
    start of another document, which leaves the first the room for its three FIM markers."""
    body: list[int] = []
    nxt = 10
    for i, n in enumerate(line_lengths):
        if i:
            body.append(NL)
        body.extend(range(nxt, nxt + n))
        nxt += n
    has_newline = np.zeros(nxt, dtype=bool)
    has_newline[NL] = True
    return np.array([T.eot, *body, T.eot, 6, 7, 8], dtype=np.int64), has_newline


def first_document(window: list[int]) -> list[int]:
    """The first document's tokens, without the second document's four."""
    return window[1:-4]


def first_example(out: list[int]) -> list[int]:
    """The first document's FIM example: three markers longer, so the second document keeps only its EOT."""
    return out[1:-1]


def split_fim(piece: list[int]) -> tuple[list[int], list[int], list[int]]:
    """Prefix, middle and suffix of one FIM example (PSM or SPM)."""
    if piece[0] == T.prefix:
        s, m = piece.index(T.suffix), piece.index(T.middle)
        return piece[1:s], piece[m + 1 :], piece[s + 1 : m]
    p, m = piece.index(T.prefix), piece.index(T.middle)
    return piece[p + 1 : m], piece[m + 1 :], piece[1:p]


@given(st.lists(st.integers(1, 12), min_size=2, max_size=12), st.integers(0, 2**32 - 1))
@settings(max_examples=200, deadline=None)
def test_line_aligned_fim_cuts_whole_lines_as_a_next_line_request_does(lengths: list[int], seed: int) -> None:
    window, has_newline = lines_window(lengths)
    out = fim_window(
        window, np.random.default_rng(seed), 1.0, T, line_rate=1.0, has_newline=has_newline
    ).tolist()
    prefix, middle, suffix = split_fim(first_example(out))
    assert prefix + middle + suffix == first_document(window.tolist())  # nothing lost
    # The middle starts at a line break and holds whole lines: the suffix is empty or starts at the
    # newline that ends the middle's last line.
    assert middle and middle[0] == NL
    assert not suffix or suffix[0] == NL


def test_line_aligned_middles_are_mostly_one_line_and_the_rate_is_kept() -> None:
    window, has_newline = lines_window([6] * 40)
    rng = np.random.default_rng(0)
    sizes = []
    line_aligned = 0
    for _ in range(2000):
        out = fim_window(window, rng, 1.0, T, line_rate=0.5, has_newline=has_newline).tolist()
        prefix, middle, suffix = split_fim(first_example(out))
        aligned = bool(middle) and middle[0] == NL and (not suffix or suffix[0] == NL)
        if aligned and middle.count(NL) >= 1 and len(middle) % 7 == 0:
            line_aligned += 1
            sizes.append(middle.count(NL))
    # Half the FIM examples are line-aligned (random cuts land on both line ends only by chance).
    assert 0.45 < line_aligned / 2000 < 0.56
    # Geometric line counts: one line about half the time, two about a quarter.
    assert 0.44 < sizes.count(1) / len(sizes) < 0.58
    assert 0.18 < sizes.count(2) / len(sizes) < 0.32


def test_line_rate_zero_draws_the_same_stream_as_before() -> None:
    """A run resumed with the option off (or an old run) sees exactly the examples it saw."""
    window, has_newline = lines_window([5] * 30)
    a = fim_window(window, np.random.default_rng(7), 0.5, T)
    b = fim_window(window, np.random.default_rng(7), 0.5, T, line_rate=0.0, has_newline=has_newline)
    assert np.array_equal(a, b)
