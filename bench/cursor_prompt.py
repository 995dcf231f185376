"""How to ask the model at a cursor with nothing after it: FIM with an empty suffix, or left to right?

A terminal's line and the end of a file leave nothing after the cursor. The
engine once asked there as everywhere, with an SPM prompt whose suffix is
empty; training shows that shape seldom (FIM's two random cuts rarely end a
document), while half of all training text is plain left-to-right text. This
replays held-out command lines (the validation split `bashcoder-eval` uses,
never trained on) cut at a cursor, greedy, and scores the completion:

- after a space (`tar -x |`): the cursor at the start of a word, the
  eval's mid-line probes;
- inside a word (`git st|`): the same lines, the cursor moved 1 to n-1
  characters into that word, as at most keystrokes while typing.

Scores: the (rest of the) next word exactly, and the whole rest of the line.
Three ways of asking: `fim-empty` (SPM, empty suffix, token healing; the
engine before), `left-to-right` (`Generator.cursor_prompt`: a plain prompt,
the token at the cursor healed; the engine now) and `plain` (no healing: the
raw model).

    .venv/bin/python bench/cursor_prompt.py --data DIR_WITH_CORPUS [--model DIR] [--probes 300]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from pathlib import Path

from bashcoder.engine.device import cpu_model, has_amx
from bashcoder.engine.generate import Generator, SamplingConfig
from bashcoder.engine.healing import Healing
from bashcoder.engine.loader import load_generator
from bashcoder.engine.stops import StopRule
from bashcoder.engine.syntax import bash_check
from bashcoder.trainer.quality.midline import (
    MidlineProbe,
    MidlineResult,
    first_word,
    sample_midline_probes,
    score_completion,
)
from bashcoder.trainer.quality.texts import validation_texts

MAX_TOKENS = 48
Asker = Callable[[Generator, str], tuple[list[int], Healing | None]]


def fim_empty(gen: Generator, prefix: str) -> tuple[list[int], Healing | None]:
    return gen.heal(gen.fim_prompt(prefix, "", MAX_TOKENS))


def left_to_right(gen: Generator, prefix: str) -> tuple[list[int], Healing | None]:
    return gen.cursor_prompt(prefix, "", MAX_TOKENS)


def plain(gen: Generator, prefix: str) -> tuple[list[int], Healing | None]:
    return gen.plain_prompt(prefix, MAX_TOKENS), None


ASKERS: dict[str, Asker] = {"fim-empty": fim_empty, "left-to-right": left_to_right, "plain": plain}


def inside_words(probes: list[MidlineProbe], seed: int) -> list[MidlineProbe]:
    """Each probe's cursor moved 1..n-1 characters into its next word (words of one character dropped)."""
    rng = random.Random(seed)
    out = []
    for p in probes:
        word = first_word(p.target)
        if len(word) >= 2:
            k = rng.randint(1, len(word) - 1)
            out.append(MidlineProbe(p.doc, p.prefix + p.target[:k], p.target[k:], p.rest))
    return out


def run(gen: Generator, probe: MidlineProbe, name: str) -> MidlineResult:
    prompt, healing = ASKERS[name](gen, probe.prefix)
    stop = StopRule("line", starts_at_line_start=False)
    sampling = SamplingConfig(temperature=0, max_tokens=MAX_TOKENS)
    text = gen.generate(prompt, sampling, stop, healing=healing)[0].text.split("\n")[0]
    return score_completion(probe, name, text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="corpus directory (its validation split)")
    ap.add_argument("--model", default=None)
    ap.add_argument("--probes", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    gen = load_generator(args.model, "cpu")
    texts = validation_texts(args.data)
    raw = [t.text for t in texts]
    parses = [bash_check(t).ok for t in raw]
    after_space = sample_midline_probes(raw, args.probes, args.seed, parses)
    kinds = {"after a space": after_space, "inside a word": inside_words(after_space, args.seed)}
    print(f"cpu: {cpu_model()}  AMX: {'yes' if has_amx() else 'no'}  model: {gen.loaded.path}")
    print(f"{'cursor':14} {'asked as':14} {'probes':>6} {'next word':>10} {'rest of line':>13} {'s':>5}")
    for kind, probes in kinds.items():
        for name in ASKERS:
            t0 = time.perf_counter()
            res = [run(gen, p, name) for p in probes]
            word = 100 * sum(r.word_exact for r in res) / len(res)
            line = 100 * sum(r.line_exact for r in res) / len(res)
            print(
                f"{kind:14} {name:14} {len(res):6} {word:9.1f}% {line:12.1f}% {time.perf_counter() - t0:5.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
