"""Line completions judged by the next line (engine/rerank.py) and the scoring they rest on
(`Generator.score`), on the micro model trained in conftest: no mocks."""

from __future__ import annotations

import dataclasses
import time

import pytest
import torch

from bashcoder.engine.checkpoint import LoadedModel
from bashcoder.engine.completer import Completer, CompletionRequest
from bashcoder.engine.device import plan_for
from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.generate import Candidate, Generator, SamplingConfig
from bashcoder.engine.rerank import (
    RerankConfig,
    best_line,
    finished,
    left_to_right_lines,
    suffix_head,
    suffix_scores,
    wants_rerank,
)
from bashcoder.engine.stops import StopRule

PREFIX = "#!/bin/bash\nset -e\nfor f in *.log; do\n"
SUFFIX = "\ndone\necho finished\n"


@pytest.fixture
def gen(micro_model, bpe_tokenizer) -> Generator:  # noqa: ANN001
    loaded = LoadedModel(micro_model, bpe_tokenizer, micro_model.cfg, None, {})  # type: ignore[arg-type]
    return Generator(loaded, dataclasses.replace(plan_for(torch.device("cpu")), runtime="torch"))


def full_logprob(gen: Generator, ids: list[int], start: int) -> float:
    """Sum of log p(ids[i] | ids[:i]) for i >= start, from one plain forward without a cache."""
    with torch.inference_mode():
        logp = torch.log_softmax(gen.model(torch.tensor([ids])).float(), dim=-1)[0]
    return sum(logp[i - 1, ids[i]].item() for i in range(start, len(ids)))


def test_score_is_the_teacher_forced_log_probability(gen: Generator) -> None:
    prompt = [gen.tokenizer.eot_id, *gen.tokenizer.encode(PREFIX)]
    conts = [gen.tokenizer.encode(t) for t in ('  gzip "$f"\n', "x", '  echo "$f" >> all.txt\n')]
    scores = gen.score(prompt, conts)
    for cont, got in zip(conts, scores, strict=True):
        # Rows of different lengths share one padded batch: padding must not leak into any row.
        assert got == pytest.approx(full_logprob(gen, prompt + cont, len(prompt)), abs=1e-3)


def test_scoring_leaves_the_prefix_cache_usable(gen: Generator) -> None:
    s = SamplingConfig(temperature=0, max_tokens=12)
    cold = gen.complete(PREFIX, "", s)[0].text
    prompt = gen.left_to_right_prompt(PREFIX, 12)
    gen.score(prompt[:-1], [gen.tokenizer.encode("  rm -f x\n  true\n"), [5]])
    assert gen.complete(PREFIX, "", s)[0].text == cold
    assert gen.last_reused > 5  # the scoring's prefill was reused, not thrown away


def test_the_spm_and_left_to_right_prompts_keep_their_own_caches(gen: Generator) -> None:
    s = SamplingConfig(temperature=0, max_tokens=8)
    gen.complete(PREFIX, SUFFIX, s)
    gen.complete(PREFIX, "", s)
    gen.complete(PREFIX + "  ", SUFFIX, s)  # a keystroke: the SPM prompt's cache is still there
    assert gen.last_reused > 10


def test_score_rejects_what_does_not_fit(gen: Generator) -> None:
    with pytest.raises(BashcoderError, match="context"):
        gen.score([1] * (gen.cfg.context_length - 2), [[5, 6, 7]])
    with pytest.raises(BashcoderError, match="non-empty"):
        gen.score([1, 2], [[]])


@pytest.mark.parametrize(
    ("suffix", "lines", "head"),
    [
        ("\ndone\necho x\n", 1, "\ndone"),
        ("\n\n  fi\ndone\n", 1, "\n\n  fi"),
        ('"\nfi\nexit\n', 1, '"\nfi'),  # a cursor inside a line: the rest of that line first
        ("\na\nb\nc\n", 2, "\na\nb"),
        ("", 1, ""),
        ("\n", 1, ""),  # nothing after the line break: nothing to read
    ],
)
def test_suffix_head_is_the_rest_of_the_line_and_the_next_lines(suffix: str, lines: int, head: str) -> None:
    assert suffix_head(suffix, lines) == head


def test_only_a_cursor_with_a_line_after_it_is_reranked() -> None:
    assert wants_rerank("\ndone\n")
    assert wants_rerank(' "$f"\n  echo\n')
    assert not wants_rerank("")
    assert not wants_rerank('"\n\n  \n')  # nothing below the cursor's line but blanks


def test_suffix_scores_read_the_line_and_the_next_line_as_one_text(gen: Generator) -> None:
    texts = ['  gzip "$f"', "  echo done", "exit 0"]
    scores = suffix_scores(gen, PREFIX, SUFFIX, texts, 32)
    prompt = gen.left_to_right_prompt(PREFIX, 32)
    back = gen.tokenizer.decode(prompt[-1:])
    for text, got in zip(texts, scores, strict=True):
        ids = prompt[:-1] + gen.tokenizer.encode(back + text + "\ndone")
        assert got == pytest.approx(full_logprob(gen, ids, len(prompt) - 1), abs=1e-3)


def test_best_line_is_the_pool_line_the_next_line_favours(gen: Generator) -> None:
    stop, cfg = StopRule("line"), RerankConfig(samples=3, seed=1)
    drawn = ["exit 1"]
    got = best_line(gen, PREFIX, SUFFIX, drawn, stop, 24, cfg, lambda t: t.split("\n")[0])
    pool = [*drawn, *(c.text.split("\n")[0] for c in left_to_right_lines(gen, PREFIX, stop, 24, cfg))]
    lines = list(dict.fromkeys(line.rstrip() for line in pool))
    scores = suffix_scores(gen, PREFIX, SUFFIX, lines, 24)
    assert got == lines[scores.index(max(scores))]
    # Nothing after the cursor's line: the drawn line stands, no left-to-right lines are asked for.
    assert best_line(gen, PREFIX, "", drawn, stop, 24, cfg, str) == "exit 1"


def test_the_completer_shows_the_line_that_leads_into_the_next(gen: Generator) -> None:
    sampling = SamplingConfig(temperature=0, max_tokens=24)
    cfg = RerankConfig(samples=3, seed=1)
    req = CompletionRequest(PREFIX, SUFFIX, "line", sampling, check_syntax=False, rerank=cfg)
    shown = Completer(gen).complete(req)
    texts = [s.text for s in shown]
    assert len(texts) > 1  # the FIM line and the left-to-right ones, deduplicated
    scores = suffix_scores(gen, PREFIX, SUFFIX, texts, 24)
    assert scores == sorted(scores, reverse=True)  # shown best first by the next line


def test_a_spent_time_budget_skips_the_rerank(gen: Generator) -> None:
    sampling = SamplingConfig(temperature=0, max_tokens=24)
    past = time.perf_counter() - 10
    plain = CompletionRequest(
        PREFIX, SUFFIX, "line", sampling, check_syntax=False, time_budget_ms=1, started=past
    )
    shown = Completer(gen).complete(dataclasses.replace(plain, rerank=RerankConfig()))
    assert [s.text for s in shown] == [s.text for s in Completer(gen).complete(plain)]
    assert len(shown) == 1  # the FIM line alone: no left-to-right lines were drawn


def test_a_long_line_is_scored_whole_with_the_next_line(gen: Generator) -> None:
    # A line longer than the room the prompt left: cut short, it would skip the next line it is
    # judged by and win by that. Scored whole, a rambling line loses to a short plausible one.
    long_line = "  echo " + "x" * 400
    prefix = PREFIX * 40  # a long file: the prompt window fills the context
    scores = suffix_scores(gen, prefix, SUFFIX, ['  gzip "$f"', long_line], 16)
    assert scores[1] < scores[0]
    prompt_len = len(gen.left_to_right_prompt(prefix, 16))
    whole = len(gen.tokenizer.encode(long_line + "\ndone"))
    assert whole > gen.cfg.context_length - prompt_len  # it did not fit beside the usual prompt


def test_a_budget_with_room_for_it_keeps_the_rerank(gen: Generator) -> None:
    sampling = SamplingConfig(temperature=0, max_tokens=24)
    ample = CompletionRequest(
        PREFIX,
        SUFFIX,
        "line",
        sampling,
        check_syntax=False,
        time_budget_ms=60_000,
        rerank=RerankConfig(seed=1),
    )
    unlimited = dataclasses.replace(ample, time_budget_ms=0)
    shown = [s.text for s in Completer(gen).complete(ample)]
    assert len(shown) > 1 and shown == [s.text for s in Completer(gen).complete(unlimited)]


def test_a_line_cut_at_the_token_limit_joins_no_pool() -> None:
    # A sample that rambles on to max_tokens never ended its line: the reranker must not offer it.
    done = Candidate("cp a b", [1, 2], -1.0, "stop")
    ended = Candidate("exit 0", [3], -0.5, "eot")
    cut = Candidate("echo aaaaaaaa", [4, 5, 6], -0.1, "length")
    late = Candidate("rm -r", [7], -0.2, "time")
    assert finished([done, cut, ended, late]) == [done, ended, late]
