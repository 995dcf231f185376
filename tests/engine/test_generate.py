from __future__ import annotations

import dataclasses
import itertools
import time

import pytest
import torch

from bashcoder.engine.checkpoint import LoadedModel
from bashcoder.engine.completer import CompletionRequest
from bashcoder.engine.device import plan_for
from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.generate import DEADLINE_MIN_TOKENS, Generator, Halt, SamplingConfig, Stale
from bashcoder.engine.knobs import ANSWER_RESERVE_MS
from bashcoder.engine.stops import StopRule


@pytest.fixture
def gen(micro_model, bpe_tokenizer) -> Generator:  # noqa: ANN001
    loaded = LoadedModel(micro_model, bpe_tokenizer, micro_model.cfg, None, {})  # type: ignore[arg-type]
    # The decoding logic on torch: the prefix cache's row sync is compared bit for bit between warm and
    # cold runs, and the runtime's prefill and step graphs round differently (tests/engine/test_runtime.py).
    return Generator(loaded, dataclasses.replace(plan_for(torch.device("cpu")), runtime="torch"))


PROMPT = "#!/usr/bin/env bash\n# Back up a directory\nset -euo pipefail\n"


def test_greedy_is_deterministic(gen: Generator) -> None:
    ids = gen.plain_prompt(PROMPT, 40)
    a = gen.generate(ids, SamplingConfig(temperature=0, max_tokens=40))[0]
    b = gen.generate(ids, SamplingConfig(temperature=0, max_tokens=40))[0]
    assert a.text == b.text and a.token_ids == b.token_ids and len(a.text) > 0


def test_greedy_learned_bash(gen: Generator) -> None:
    # The micro model was trained on the fixtures: it continues backup.sh as it was written.
    out = gen.generate(gen.plain_prompt(PROMPT, 30), SamplingConfig(temperature=0, max_tokens=30))[0]
    assert out.text.startswith("\nSRC=")


def test_same_seed_repeats_different_seeds_differ(gen: Generator) -> None:
    ids = gen.plain_prompt("#!/bin/bash\n", 30)

    def run(seed: int) -> list[str]:
        cands = gen.generate(
            ids,
            SamplingConfig(temperature=1.5, top_k=0, top_p=1.0, max_tokens=30, num_candidates=4, seed=seed),
        )
        return [c.text for c in cands]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_greedy_first_keeps_the_first_candidate_greedy_and_samples_the_others(gen: Generator) -> None:
    ids = gen.plain_prompt("#!/bin/bash\n", 30)
    greedy = gen.generate(ids, SamplingConfig(temperature=0, max_tokens=30))[0].text
    hot = SamplingConfig(temperature=1.5, top_k=0, top_p=1.0, max_tokens=30, num_candidates=4)
    firsts, others = set(), set()
    for seed in range(3):
        cands = gen.generate(ids, dataclasses.replace(hot, seed=seed, greedy_first=True))
        firsts.add(cands[0].text)
        others.update(c.text for c in cands[1:])
    assert firsts == {greedy}  # the same at every seed: the ghost text does not change
    assert len(others - {greedy}) >= 2  # the menu's other candidates are still drawn
    plain = {gen.generate(ids, dataclasses.replace(hot, seed=seed))[0].text for seed in range(3)}
    assert plain != {greedy}  # without it the first row samples too


def test_candidates_from_one_prefill_match_single_runs(gen: Generator) -> None:
    ids = gen.plain_prompt(PROMPT, 20)
    many = gen.generate(ids, SamplingConfig(temperature=0, max_tokens=20, num_candidates=3))
    one = gen.generate(ids, SamplingConfig(temperature=0, max_tokens=20))[0]
    assert [c.text for c in many] == [one.text] * 3


def test_prefix_cache_is_reused_and_gives_the_same_answer(gen: Generator) -> None:
    s = SamplingConfig(temperature=0, max_tokens=10)
    gen.complete("#!/bin/bash\nfor f in *; do\n  ech", "\ndone\n", s)
    warm = gen.complete("#!/bin/bash\nfor f in *; do\n  echo", "\ndone\n", s)
    assert gen.last_reused > 5
    gen.reset_cache()  # cold: nothing reusable
    cold = gen.complete("#!/bin/bash\nfor f in *; do\n  echo", "\ndone\n", s)
    assert gen.last_reused == 0
    assert [c.text for c in warm] == [c.text for c in cold]


def test_typing_with_changing_candidate_counts_matches_cold_runs(gen: Generator) -> None:
    # Rows of the prefix cache are synced position by position; any stale row
    # would change a sampled candidate.
    text = "#!/bin/bash\nfor f in *.log; do\n  gzip "
    for i, n in enumerate([1, 3, 3, 2, 4, 1, 3]):
        prefix = text + "-k"[: i % 3]
        s = SamplingConfig(temperature=1.0, top_k=20, max_tokens=8, num_candidates=n, seed=i)
        warm = gen.complete(prefix, "\ndone\n", s)
        reused = gen.last_reused
        gen.reset_cache()
        cold = gen.complete(prefix, "\ndone\n", s)
        assert [c.token_ids for c in warm] == [c.token_ids for c in cold], (i, n, reused)
        if i > 0:
            assert reused > 5


def test_line_stop_rule_ends_at_newline(gen: Generator) -> None:
    ids = gen.plain_prompt(PROMPT, 60)
    out = gen.generate(ids, SamplingConfig(temperature=0, max_tokens=60), StopRule("line"))[0]
    assert out.finish == "stop" and "\n" not in out.text.strip("\n")


def test_max_tokens_is_respected(gen: Generator) -> None:
    out = gen.generate(gen.plain_prompt(PROMPT, 5), SamplingConfig(temperature=1.0, max_tokens=5, seed=0))[0]
    assert len(out.token_ids) <= 5


def test_stale_request_stops_decoding(gen: Generator) -> None:
    steps = {"n": 0}

    def stale() -> bool:
        steps["n"] += 1
        return steps["n"] > 3

    with pytest.raises(Stale):
        gen.generate(gen.plain_prompt(PROMPT, 50), SamplingConfig(max_tokens=50), halt=Halt(is_stale=stale))
    assert steps["n"] == 4


def test_a_deadline_already_past_leaves_the_first_few_tokens(gen: Generator) -> None:
    ids = gen.plain_prompt(PROMPT, 30)
    greedy = SamplingConfig(temperature=0, max_tokens=30)
    full = gen.generate(ids, greedy)[0]
    assert len(full.token_ids) > DEADLINE_MIN_TOKENS
    late = gen.generate(ids, greedy, halt=Halt(deadline=time.perf_counter() - 1))[0]
    assert late.finish == "time" and late.token_ids == full.token_ids[:DEADLINE_MIN_TOKENS]
    far = gen.generate(ids, greedy, halt=Halt(deadline=time.perf_counter() + 3600))[0]
    assert (far.token_ids, far.finish) == (full.token_ids, full.finish)


def test_a_deadline_stops_at_the_step_that_would_overrun_it(
    gen: Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A clock that advances 10 ms per reading: every decode step "takes" 10 ms.
    ticks = itertools.count()
    monkeypatch.setattr("bashcoder.engine.generate.time.perf_counter", lambda: next(ticks) * 0.010)
    ids = gen.plain_prompt(PROMPT, 30)
    greedy = SamplingConfig(temperature=0, max_tokens=30)
    full = gen.generate(ids, greedy)[0]
    start = next(ticks) * 0.010
    cut = gen.generate(ids, greedy, halt=Halt(deadline=start + 0.100))[0]
    # Two readings a step (10 ms apart): the step that would end past start + 100 ms never starts.
    assert cut.finish == "time" and DEADLINE_MIN_TOKENS < len(cut.token_ids) < 10
    assert full.token_ids[: len(cut.token_ids)] == cut.token_ids
    assert full.text.startswith(cut.text)


def test_the_time_budget_of_a_request_is_longer_for_blocks() -> None:
    req = CompletionRequest("echo ", "", "auto", SamplingConfig(), time_budget_ms=100, started=5.0)
    # Decoding ends ANSWER_RESERVE_MS early: the reply must also fit in the budget.
    assert req.deadline("line") == pytest.approx(5.1 - ANSWER_RESERVE_MS / 1000)
    assert req.deadline("block") == pytest.approx(5.4 - ANSWER_RESERVE_MS / 1000)
    assert CompletionRequest("echo ", started=5.0).deadline("line") is None


def test_long_prompt_keeps_the_text_nearest_the_cursor(gen: Generator) -> None:
    prefix = "".join(f"echo line{i}\n" for i in range(2000))
    suffix = "".join(f"echo after{i}\n" for i in range(2000))
    ids = gen.fim_prompt(prefix, suffix, max_tokens=32)
    assert len(ids) + 32 <= gen.cfg.context_length
    text = gen.tokenizer.decode(ids)
    assert "echo line1999\n" in text and "echo line0\n" not in text
    assert "echo after0\n" in text and "echo after1999" not in text
    long_plain = gen.plain_prompt(prefix, 32)
    assert gen.tokenizer.decode(long_plain).endswith("echo line1999\n")


def test_prompt_too_long_for_max_tokens_is_a_clear_error(gen: Generator) -> None:
    with pytest.raises(BashcoderError, match="max tokens"):
        gen.plain_prompt("echo", gen.cfg.context_length)


def test_streaming_reports_growing_text(gen: Generator) -> None:
    seen: list[str] = []
    out = gen.generate(
        gen.plain_prompt(PROMPT, 15),
        SamplingConfig(temperature=0, max_tokens=15),
        on_text=lambda r, t: seen.append(t),
    )
    assert seen[-1] == out[0].text and len(seen) >= 2
