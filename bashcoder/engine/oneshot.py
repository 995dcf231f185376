"""One-shot generation from a prompt (`bashcoder-generate`): options, sampling, optional `bash -n` ranking, printing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bashcoder.engine.completer import whole_lines
from bashcoder.engine.generate import Candidate, Generator, SamplingConfig
from bashcoder.engine.healing import Healing
from bashcoder.engine.knobs import SCRIPT_BEST_OF
from bashcoder.engine.loader import load_generator
from bashcoder.engine.stops import StopRule, close_compounds, stop_rule_for
from bashcoder.engine.syntax import bash_check, code_share
from bashcoder.engine.syntax import rank as rank_candidates


@dataclass(frozen=True)
class GenerateOptions:
    """The command's flags, one to one."""

    model_path: str | None
    """Model directory; None = default lookup."""
    prompt: str | None
    """Text to continue."""
    suffix: str
    """Text after the cursor (fill-in-the-middle when non-empty)."""
    max_tokens: int
    """Most new tokens per sample."""
    temperature: float
    """Sampling temperature; 0 = greedy."""
    top_k: int
    """Top-k filter; 0 = off."""
    top_p: float
    """Nucleus filter; 1 = off."""
    repetition_penalty: float
    """Penalty on tokens already generated; 1 = off."""
    num_samples: int
    """Samples drawn from one prefill."""
    seed: int | None
    """Seed for repeatable sampling."""
    mode: str
    """script: to end of text; block; line."""
    device: str | None
    """cuda, mps, cpu or None (auto)."""
    check: bool
    """Mark samples with `bash -n`."""
    info: bool
    """Print model information and exit."""
    best_of: int | None = None
    """Samples drawn, of which the `num_samples` best are printed; None = `best_of_default(mode)`."""


def best_of_default(mode: str) -> int:
    """Draws per request when `--best-of` is not given: knobs.SCRIPT_BEST_OF for a whole script, else 1."""
    return SCRIPT_BEST_OF if mode == "script" else 1


def model_info(opts: GenerateOptions) -> str:
    gen = load_generator(opts.model_path, opts.device)
    cfg, p = gen.cfg, gen.plan
    lines = [f"model: {gen.loaded.path}"]
    lines += [f"  {k}: {v}" for k, v in cfg.to_dict().items()]
    lines.append(f"parameters: {gen.model.num_params():,} ({gen.model.num_params() / 1e6:.1f}M)")
    lines.append(f"tokenizer: {gen.tokenizer.kind}, {gen.tokenizer.vocab_size} tokens")
    lines.append(f"device: {p.describe()}")

    def name(dt: object) -> str:
        return str(dt or p.weight_dtype).replace("torch.", "")

    lines.append(
        f"dtype: weights {name(p.weight_dtype)}, prefill {name(p.prefill_dtype)}, decode {name(p.decode_dtype)}"
    )
    return "\n".join(lines)


SHEBANG = "#!/bin/bash\n"
"""What a whole script (`--mode script`) starts with when the prompt has no shebang of its own."""


def finish_script(
    prompt: str, text: str, finish: str, parses: Callable[[str], bool] | None = None, tries: int = 24
) -> str:
    """A whole script cut by the token budget ('length') or a loop ('stop'), made whole.

    The half-written last line goes, and the blocks the script opened are
    closed (`stops.close_compounds`): `for f in *; do\n  echo "$f"\n  if [ -d`
    -> `for f in *; do\n  echo "$f"\ndone`. With `parses` (prompt + script ->
    whether bash accepts it), whole lines are dropped from the end, at most
    `tries` of them, until the closed script parses: a block whose body so
    far is only comments cannot be closed into valid bash. A script that
    ended by itself ('eot') is left as it is. Pure when `parses` is.
    """
    if finish == "eot":
        return text
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines.pop()
    closed = close_compounds(prompt, "".join(lines), "")
    if parses is None or parses(prompt + closed):
        return closed
    for keep in range(len(lines) - 1, max(len(lines) - tries, 0) - 1, -1):
        shorter = close_compounds(prompt, "".join(lines[:keep]), "")
        if parses(prompt + shorter):
            return shorter
    return closed


def ask(gen: Generator, prompt: str, suffix: str, max_tokens: int) -> tuple[list[int], Healing | None]:
    """The prompt ids and healing for `prompt` (and `suffix`): as the editor and the terminal ask.

    Left to right, or SPM with a suffix, the prompt's last token healed
    (`Generator.cursor_prompt`): a prompt ending in "\n" otherwise rules out
    the "\n\n" or "\n  " tokens the model wrote there in training.
    """
    return gen.cursor_prompt(prompt, suffix, max_tokens)


def run_generate(
    opts: GenerateOptions, echo: Callable[[str], None], note: Callable[[str], None] | None = None
) -> list[Candidate]:
    """Generate as `opts` asks and print through `echo`; the printed candidates, best first.

    Draws `max(num_samples, best_of)` samples in one batch from one prefill
    (one, repeated as `num_samples`, when greedy: its draws are all alike) and
    prints the `num_samples` best by `syntax.rank_key`: `bash -n` accepts
    it, then, for a whole script, at least knobs.MIN_CODE_SHARE of its lines
    are code, then mean log-probability. A best-of-n pick with a checker, as
    in Chen et al. 2021 ("Evaluating Large Language Models Trained on Code",
    sampling then ranking). Raises BashcoderError for a model that cannot
    load or a prompt that does not fit. `note` (stderr) hears when the model
    wrote nothing, which the output alone would not show.
    """
    if opts.info:
        echo(model_info(opts))
        return []
    gen = load_generator(opts.model_path, opts.device)
    gen.check_max_tokens(opts.max_tokens, "--max-tokens")
    prompt_text = opts.prompt or ""
    best_of = opts.best_of or best_of_default(opts.mode)
    draws = max(opts.num_samples, best_of if opts.temperature > 0 else 1)
    sampling = SamplingConfig(
        temperature=opts.temperature,
        top_k=opts.top_k,
        top_p=opts.top_p,
        repetition_penalty=opts.repetition_penalty,
        max_tokens=opts.max_tokens,
        num_candidates=draws,
        seed=opts.seed,
    )
    stop = StopRule("script") if opts.mode == "script" else stop_rule_for(prompt_text, opts.mode)
    whole_script = opts.mode == "script" and not opts.suffix
    if whole_script and not prompt_text.startswith("#!"):
        # A script's first line in the training data is its shebang; a comment in its place
        # reads to the model as a documentation page (tldr) or a license header.
        prompt_text = SHEBANG + prompt_text
    sep = "" if not prompt_text or prompt_text.endswith("\n") or opts.suffix else "\n"
    # A prompt that is a comment line asks for what follows it, on the next line.
    prompt_text = prompt_text + sep if prompt_text.lstrip().startswith("#") else prompt_text
    ids, healing = ask(gen, prompt_text, opts.suffix, opts.max_tokens)
    candidates = gen.generate(ids, sampling, stop, healing=healing)
    if whole_script:
        for c in candidates:
            c.text = finish_script(prompt_text, c.text, c.finish, lambda t: bash_check(t).ok)
    elif stop.mode == "block":
        # As in the editor: the stop rule ends a body before its closer, which is written back.
        for c in candidates:
            text, mode = whole_lines(c, "block")
            closes = mode == "block" and text.strip()
            c.text = close_compounds(prompt_text, text.rstrip(" \t\n"), opts.suffix) if closes else text
    # Ranking among several draws needs `bash -n` whether or not its verdict is printed.
    checks = [
        bash_check(prompt_text + c.text + opts.suffix) if opts.check or draws > 1 else None
        for c in candidates
    ]
    for c, chk in zip(candidates, checks, strict=True):
        c.syntax_ok = chk.ok if chk else None
    # A whole script starts at a line start, so its share of code lines is meaningful.
    shares = [code_share(c.text) if whole_script and prompt_text.endswith("\n") else None for c in candidates]
    order = rank_candidates(
        [(c.syntax_ok, c.mean_logprob, sh) for c, sh in zip(candidates, shares, strict=True)]
    )
    order = order[: opts.num_samples]
    if note is not None and not any(candidates[i].text.strip() for i in order):
        note(
            f"note: the model wrote nothing here within --max-tokens {opts.max_tokens} (a line cut at the "
            "limit is dropped); raise --max-tokens, or try another --seed or prompt."
        )
    for n, i in enumerate(order, start=1):
        c, chk = candidates[i], checks[i]
        if opts.num_samples > 1:
            echo(f"### sample {n} (mean logprob {c.mean_logprob:.2f})")
        echo(prompt_text + c.text + opts.suffix)
        if opts.check and chk is not None:
            echo("# bash -n: ok" if chk.ok else f"# bash -n: INVALID: {chk.message}")
    return [candidates[i] for i in order]
