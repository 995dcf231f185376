from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bashcoder.engine.fim import FimTokens, fim_permute, psm, spm
from bashcoder.engine.windows import window_prefix, window_suffix

T = FimTokens(prefix=1, suffix=2, middle=3, eot=0)


def test_psm_and_spm_layouts() -> None:
    assert psm([10, 11], [20], T) == [1, 10, 11, 2, 20, 3]
    assert spm([10, 11], [20], T) == [2, 20, 1, 10, 11, 3]


def test_spm_appends_when_the_user_types() -> None:
    # Typing at the cursor grows the prefix; the old prompt minus <|fim_middle|> stays a prefix.
    before = spm([10, 11], [20, 21], T)
    after = spm([10, 11, 12], [20, 21], T)
    assert after[: len(before) - 1] == before[:-1]


@given(
    st.lists(st.integers(10, 99), max_size=50),
    st.integers(0, 60),
    st.integers(0, 60),
    st.sampled_from(["psm", "spm"]),
)
def test_fim_permute_keeps_every_token(tokens: list[int], a: int, b: int, order: str) -> None:
    out = fim_permute(tokens, a, b, T, order)
    assert sorted(x for x in out if x >= 10) == sorted(tokens)
    assert sorted(x for x in out if x < 10) == [1, 2, 3]
    lo, hi = sorted((min(a, len(tokens)), min(b, len(tokens))))
    assert out[-(hi - lo) or len(out) :] == tokens[lo:hi] or hi == lo


def count_chars(text: str) -> int:
    return len(text)


def test_window_prefix_keeps_the_end_at_a_line_start() -> None:
    text = "".join(f"line {i}\n" for i in range(1000))
    out = window_prefix(text, count_chars, budget=500, step_chars=256)
    assert text.endswith(out) and len(out) <= 500
    assert out.startswith("line ")


def test_a_last_line_over_the_budget_keeps_its_end_not_an_empty_window() -> None:
    text = "set -e\nA=(" + " ".join(str(i) for i in range(900)) + ")\n"
    out = window_prefix(text, count_chars, budget=500, step_chars=256)
    assert text.endswith(out) and 0 < len(out) <= 500 and out.strip().endswith("899)")


def test_window_prefix_is_stable_while_typing() -> None:
    text = "".join(f"echo {i}\n" for i in range(2000))
    starts = set()
    for extra in range(200):
        typed = text + "x" * extra
        out = window_prefix(typed, count_chars, budget=3000, step_chars=1024)
        starts.add(len(typed) - len(out))
    assert len(starts) <= 2  # moves at most once in 200 keystrokes


def test_window_suffix_keeps_whole_lines_from_the_start() -> None:
    text = "".join(f"line {i}\n" for i in range(100))
    out = window_suffix(text, count_chars, budget=50)
    assert text.startswith(out) and len(out) <= 50 and out.endswith("\n")


def test_window_of_a_huge_prefix_is_fast_and_fits() -> None:
    calls = {"chars": 0}

    def counting(text: str) -> int:
        calls["chars"] += len(text)
        return len(text) // 4

    text = "".join(f"echo line {i} $HOME\n" for i in range(100_000))  # ~2 MB
    out = window_prefix(text, counting, budget=400, step_chars=800)
    assert text.endswith(out) and counting(out) <= 400 and out.startswith("echo")
    assert calls["chars"] < 200_000  # never re-tokenizes the whole prefix
    suffix = window_suffix(text, counting, budget=400)
    assert text.startswith(suffix) and suffix.endswith("\n") and counting(suffix) <= 400
