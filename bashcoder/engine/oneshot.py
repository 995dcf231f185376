"""One-shot generation from a prompt (`bashcoder-generate`): options, sampling, optional `bash -n` ranking, printing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bashcoder.engine.generate import Candidate, SamplingConfig
from bashcoder.engine.loader import load_generator
from bashcoder.engine.stops import StopRule, stop_rule_for
from bashcoder.engine.syntax import bash_check
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


def run_generate(opts: GenerateOptions, echo: Callable[[str], None]) -> list[Candidate]:
    if opts.info:
        echo(model_info(opts))
        return []
    gen = load_generator(opts.model_path, opts.device)
    prompt_text = opts.prompt or ""
    sampling = SamplingConfig(
        temperature=opts.temperature,
        top_k=opts.top_k,
        top_p=opts.top_p,
        repetition_penalty=opts.repetition_penalty,
        max_tokens=opts.max_tokens,
        num_candidates=opts.num_samples,
        seed=opts.seed,
    )
    stop = StopRule("script") if opts.mode == "script" else stop_rule_for(prompt_text, opts.mode)
    sep = "" if not prompt_text or prompt_text.endswith("\n") or opts.suffix else "\n"
    # A prompt that is a comment line asks for what follows it, on the next line.
    prompt_text = prompt_text + sep if prompt_text.lstrip().startswith("#") else prompt_text
    if opts.suffix:
        ids = gen.fim_prompt(prompt_text, opts.suffix, opts.max_tokens)
    else:
        ids = gen.plain_prompt(prompt_text, opts.max_tokens)
    candidates = gen.generate(ids, sampling, stop)
    checks = [bash_check(prompt_text + c.text + opts.suffix) if opts.check else None for c in candidates]
    for c, chk in zip(candidates, checks, strict=True):
        c.syntax_ok = chk.ok if chk else None
    order = (
        rank_candidates([(c.syntax_ok, c.mean_logprob) for c in candidates]) if opts.num_samples > 1 else [0]
    )
    for n, i in enumerate(order, start=1):
        c, chk = candidates[i], checks[i]
        if opts.num_samples > 1:
            echo(f"### sample {n} (mean logprob {c.mean_logprob:.2f})")
        echo(prompt_text + c.text + opts.suffix)
        if chk is not None:
            echo("# bash -n: ok" if chk.ok else f"# bash -n: INVALID: {chk.message}")
    return [candidates[i] for i in order]
