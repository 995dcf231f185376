"""Token healing: the word at the cursor is completed as the model learned to write it."""

from __future__ import annotations

import pytest
import torch

from bashcoder.engine.checkpoint import LoadedModel
from bashcoder.engine.device import plan_for
from bashcoder.engine.generate import Generator, SamplingConfig
from bashcoder.engine.healing import Vocabulary, token_bytes
from bashcoder.engine.stops import StopRule
from bashcoder.engine.tokenizer import CharTokenizer


@pytest.fixture(scope="module")
def gen(micro_model, bpe_tokenizer) -> Generator:  # noqa: ANN001
    loaded = LoadedModel(micro_model, bpe_tokenizer, micro_model.cfg, None, {})  # type: ignore[arg-type]
    return Generator(loaded, plan_for(torch.device("cpu")))


def test_token_bytes_spell_every_script_exactly(bpe_tokenizer, scripts: list[str]) -> None:  # noqa: ANN001
    table = token_bytes(bpe_tokenizer)
    for text in scripts:
        assert b"".join(table[i] for i in bpe_tokenizer.encode(text)) == text.encode("utf-8")
    assert all(table[i] == b"" for i in bpe_tokenizer.special_ids)


def test_allowed_tokens_are_exactly_those_that_spell_the_pending_bytes(bpe_tokenizer) -> None:  # noqa: ANN001
    vocab = Vocabulary(bpe_tokenizer)
    for pending in (b"e", b" ba", b"\n  ", b"$", b"echo", b"zzzq"):
        expected = {
            i
            for i, b in enumerate(vocab.bytes)
            if b and (b.startswith(pending) or (len(b) < len(pending) and pending.startswith(b)))
        }
        assert set(vocab.allowed(pending)) == expected, pending


def test_char_tokenizer_heals_by_bytes() -> None:
    vocab = Vocabulary(CharTokenizer())
    assert vocab.allowed(b"ab") == (ord("a"),)
    assert vocab.advance(b"ab", ord("a")) == b"b"


def test_every_candidate_first_writes_the_healed_word_again(gen: Generator) -> None:
    # Whatever the model prefers, sampling from the whole vocabulary must respell " ba".
    prompt = gen.fim_prompt("#!/bin/bash\n# ba", "\n", 8)
    healed, healing = gen.heal(prompt)
    assert healing is not None and healing.text.endswith("ba") and len(healed) == len(prompt) - 1
    cands = gen.generate(
        healed,
        SamplingConfig(temperature=1.5, top_k=0, max_tokens=8, num_candidates=8, seed=3),
        healing=healing,
    )
    for cand in cands:
        spelled = gen.tokenizer.decode(cand.token_ids)
        assert spelled.startswith(healing.text) or healing.text.startswith(spelled), spelled
        if spelled.startswith(healing.text):
            assert cand.text == spelled[len(healing.text) :]


@pytest.mark.parametrize("suffix", ["rest of the file", "nothing"])
def test_a_mid_word_cursor_gets_the_rest_of_the_word(gen: Generator, scripts: list[str], suffix: str) -> None:
    # The micro model learned the fixtures: inside their words, the healed greedy
    # completion continues the word as written far more often than the raw split,
    # asked with the text after the cursor (SPM) or with nothing after it (left to right).
    cursors = [
        (text, i)
        for text in scripts
        for i in range(20, len(text), 11)
        if text[i - 1].isalnum() and text[i].isalnum()
    ]
    s = SamplingConfig(temperature=0, max_tokens=6)

    def hits(heal: bool) -> int:
        n = 0
        for text, i in cursors:
            after = text[i:] if suffix == "rest of the file" else ""
            healed, healing = gen.cursor_prompt(text[:i], after, 6)
            if not heal:  # the same prompt with the cursor's token left where the tokenizer put it
                healed, healing = (
                    (gen.fim_prompt(text[:i], after, 6) if after else gen.plain_prompt(text[:i], 6)),
                    None,
                )
            out = gen.generate(healed, s, StopRule("line"), healing=healing)[0].text
            n += bool(out) and text[i:].startswith(out[:2])
        return n

    healed, raw = hits(True), hits(False)
    assert len(cursors) >= 60
    assert healed >= len(cursors) // 8 and healed > 2 * raw, (healed, raw, len(cursors))


def test_a_prompt_with_an_empty_prefix_is_not_healed(gen: Generator) -> None:
    prompt = gen.fim_prompt("", "echo hi\n", 8)
    assert gen.heal(prompt) == (prompt, None)


# ---- a cursor with nothing after it: left to right, healed --------------------
@pytest.mark.parametrize("suffix", ["", "\n", "  \n\n"])
def test_a_cursor_with_nothing_after_it_is_asked_left_to_right(gen: Generator, suffix: str) -> None:
    prefix = "#!/bin/bash\nfor f in *.txt; do\n  ec"
    prompt, healing = gen.cursor_prompt(prefix, suffix, 16)
    specials = {gen.tokenizer.fim_prefix_id, gen.tokenizer.fim_suffix_id, gen.tokenizer.fim_middle_id}
    assert not specials & set(prompt)  # no FIM markers: plain text, as half of training was
    assert prompt[0] == gen.tokenizer.eot_id  # the whole prefix fits: a document start
    assert healing is not None and healing.text and prefix.endswith(healing.text)
    assert gen.tokenizer.decode(prompt[1:]) + healing.text == prefix
    # With text after the cursor it stays an SPM prompt.
    spm_prompt, _ = gen.cursor_prompt(prefix, "\ndone\n", 16)
    assert spm_prompt[0] == gen.tokenizer.fim_suffix_id and spm_prompt[-1] == gen.tokenizer.fim_middle_id


def test_typing_at_the_end_of_a_long_file_keeps_the_prompts_start(gen: Generator, scripts: list[str]) -> None:
    # The window moves in steps, so the KV cache built on its start serves keystroke after keystroke.
    long = "\n".join(scripts) * 3
    assert gen.count_tokens(long) > gen.cfg.context_length
    first, _ = gen.cursor_prompt(long + "e", "", 16)
    second, _ = gen.cursor_prompt(long + "ech", "", 16)
    assert len(first) <= gen.cfg.context_length - 16
    assert first[0] != gen.tokenizer.eot_id  # a window cut from a longer text is no document start
    assert second[: len(first) - 2] == first[:-2]
