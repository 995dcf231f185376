"""The server's model service: windowed requests, answers without the model, the KV cache switch, scripts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bashcoder.engine.completer import CompletionRequest
from bashcoder.engine.knobs import MENU_TEMPERATURE, SCRIPT_BEST_OF, SCRIPT_TEMPERATURE
from bashcoder.engine.rerank import RerankConfig
from bashcoder.engine.windows import PREFIX_CHARS_PER_TOKEN
from bashcoder.server.service import CompletionService, sampling_for
from bashcoder.server.settings import ServerSettings

GREEDY = ServerSettings(temperature=0.0, candidates=1, max_tokens=16, time_budget_ms=0, mode="line")


@pytest.fixture(scope="module")
def service(model_dir: Path) -> CompletionService:
    svc = CompletionService()
    info = svc.load(str(model_dir), "cpu")
    assert info.device == "cpu" and info.model == str(model_dir)
    return svc


def test_nothing_is_served_before_a_model_is_loaded() -> None:
    svc = CompletionService()
    assert not svc.ready
    assert svc.request("echo ", "", GREEDY) is None
    assert svc.write_script("# hi\n", "", GREEDY) == ""


def test_settings_become_sampling_knobs() -> None:
    s = sampling_for(ServerSettings(temperature=0.5, top_k=7, top_p=0.9, max_tokens=33, candidates=4))
    assert (s.temperature, s.top_k, s.top_p, s.max_tokens, s.num_candidates) == (0.5, 7, 0.9, 33, 4)


def test_a_huge_document_is_windowed_before_the_tokenizer_sees_it(service: CompletionService) -> None:
    big = "echo line\n" * 500_000  # 5 MB
    assert service.completer is not None
    prefix, suffix = service.completer._windows(big, big)  # what the engine hands the tokenizer
    ctx = service.generator.cfg.context_length  # type: ignore[union-attr]
    assert len(prefix) <= PREFIX_CHARS_PER_TOKEN * ctx and big.endswith(prefix)
    assert len(suffix) < len(big) and big.startswith(suffix)
    req = service.request(big, big, GREEDY)
    assert req is not None and isinstance(service.complete(req), list)


def test_a_repeat_and_type_through_are_answered_without_the_model(
    service: CompletionService, scripts: list[str]
) -> None:
    text = scripts[0]
    cut = text.index("\n", len(text) // 2) - 6
    # The user retypes the end of a line (the rest of the line is not after the
    # cursor: a completion that repeats the suffix is dropped).
    rest = text[text.index("\n", cut) :]
    req = service.request(text[:cut], rest, GREEDY)
    assert req is not None
    assert service.cached(req) is None
    first = service.complete(req)
    assert first, "the micro model completes a line of a script it trained on"
    assert service.cached(req) == first  # the same request again
    typed = first[0].text[:1]
    later = service.request(text[:cut] + typed, rest, GREEDY)
    hit = service.cached(later)  # type: ignore[arg-type]
    assert hit is not None and hit[0].from_cache and hit[0].text == first[0].text[1:]


def test_the_kv_cache_of_the_previous_prompt_is_reused_unless_switched_off(
    model_dir: Path, service: CompletionService
) -> None:
    prefix, suffix = "#!/bin/bash\nfor f in *.log; do\n  gzip ", "\ndone\n"
    service.complete(service.request(prefix, suffix, GREEDY))  # type: ignore[arg-type]
    service.complete(service.request(prefix + "-", suffix, GREEDY))  # type: ignore[arg-type]
    assert service.generator.last_reused > 10  # type: ignore[union-attr]

    cold = CompletionService(reuse_prefix_cache=False)
    cold.load(str(model_dir), "cpu")
    # Without the rerank: its scoring reuses, inside one request, the prefill its lines were drawn from.
    once = dataclasses.replace(GREEDY, rerank=False)
    cold.complete(cold.request(prefix, suffix, once))  # type: ignore[arg-type]
    cold.complete(cold.request(prefix + "-", suffix, once))  # type: ignore[arg-type]
    assert cold.generator.last_reused == 0  # type: ignore[union-attr]


def test_a_script_body_is_written_in_whole_lines(service: CompletionService) -> None:
    body = service.write_script(
        "#!/bin/bash\n# show disk usage\n", "", ServerSettings(temperature=0.0, candidates=1)
    )
    assert isinstance(body, str)


def test_a_script_is_the_best_of_several_draws_even_when_ghost_text_is_greedy(
    service: CompletionService, monkeypatch: pytest.MonkeyPatch
) -> None:
    completer = service.completer
    assert completer is not None
    asked: list[CompletionRequest] = []
    real = completer.write_script

    def spy(req: CompletionRequest, is_stale=None):  # noqa: ANN001, ANN202
        asked.append(req)
        return real(req, is_stale)

    monkeypatch.setattr(completer, "write_script", spy)
    prefix = "#!/bin/bash\n# show disk usage\n"
    service.write_script(prefix, "", ServerSettings(temperature=0.8, candidates=1))
    service.write_script(prefix, "", ServerSettings(temperature=0.0, candidates=1))
    assert [r.sampling.num_candidates for r in asked] == [SCRIPT_BEST_OF, SCRIPT_BEST_OF]
    # a greedy script loops: at temperature 0 (the default) it is sampled as bashcoder-generate does
    assert [r.sampling.temperature for r in asked] == [0.8, SCRIPT_TEMPERATURE]
    assert not any(r.sampling.greedy_first for r in asked)
    assert all(r.check_syntax for r in asked)  # bash -n orders the draws


def test_ghost_text_is_greedy_by_default_and_further_candidates_still_differ() -> None:
    assert ServerSettings().temperature == 0
    one = sampling_for(ServerSettings())
    assert (one.temperature, one.greedy_first) == (0, False)
    several = sampling_for(ServerSettings(candidates=3))
    assert several.greedy_first and several.temperature == MENU_TEMPERATURE
    warm = sampling_for(ServerSettings(candidates=3, temperature=0.5))
    assert (warm.temperature, warm.greedy_first) == (0.5, False)


def test_max_tokens_leave_room_for_the_prompt(service: CompletionService) -> None:
    ctx = service.generator.cfg.context_length  # type: ignore[union-attr]
    req = service.request("echo ", "", ServerSettings(max_tokens=512))
    assert req is not None and req.sampling.max_tokens == ctx // 2
    assert isinstance(service.complete(req), list)


def test_the_rerank_setting_reaches_the_request(service: CompletionService) -> None:
    prefix, suffix = "#!/bin/bash\nfor f in *.log; do\n", "\ndone\necho ok\n"
    on = service.request(prefix, suffix, GREEDY)
    off = service.request(prefix, suffix, dataclasses.replace(GREEDY, rerank=False))
    assert on is not None and on.rerank == RerankConfig()  # on by default
    assert off is not None and off.rerank is None
    # Reranked, the left-to-right lines join the FIM line: more distinct suggestions to choose from.
    assert len(service.complete(on)) > len(service.complete(off)) == 1


def test_with_several_candidates_the_greedy_one_is_among_them_and_the_others_differ(
    service: CompletionService, scripts: list[str]
) -> None:
    prefix = "#!/bin/bash\n"  # a script's first line: the model is least sure what comes next
    one = dataclasses.replace(GREEDY, max_tokens=12)
    several = dataclasses.replace(one, candidates=4)  # temperature 0: the first greedy, the others at 0.8
    greedy = service.complete(service.request(prefix, "", one))  # type: ignore[arg-type]
    shown = [service.complete(service.request(prefix, "", several)) for _ in range(3)]  # type: ignore[arg-type]
    assert greedy, "the model suggested nothing here: pick another cursor"
    for suggestions in shown:
        texts = [s.text for s in suggestions]
        assert greedy[0].text in texts  # the same greedy line each time
    assert len({s.text for suggestions in shown for s in suggestions}) > 1  # and the menu still has others
