"""What `bashcoder-generate` writes for a comment prompt: code or comments, and does bash parse it.

For the prompts of examples/prompts.txt and eight others, two seeds each,
with the command's own defaults, it prints per variant: code lines per
script (non-blank, non-comment, after the prompt), scripts with a license or
copyright line, tldr-style `# ...:` lines per script, and how many scripts
`bash -n` accepts. The variants switch off, one at a time, what
`engine/oneshot.py` adds to a whole script: the `#!/bin/bash` first line,
`finish_script` (closing what a cut script opened, then dropping lines until
it parses) and the healing of the prompt's last token (`oneshot.ask`; off =
a plain prompt that ends in its own newline token), each with one draw; the
last row is the command's default, the best of knobs.SCRIPT_BEST_OF draws
(`--best-of`). It also prints the share of scripts with no code line at all.

    .venv/bin/python bench/script_quality.py [--model DIR] [--seeds 2]
"""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

import bashcoder.engine.oneshot as oneshot
from bashcoder.engine.device import cpu_model
from bashcoder.engine.knobs import SCRIPT_BEST_OF, TOP_K, TOP_P, surface_default

ROOT = Path(__file__).resolve().parent.parent
MORE_PROMPTS = [
    "# Download a file with curl and retry on failure",
    "# Count lines in every .py file recursively",
    "# Kill all processes matching a name",
    "# Create a user and add it to the docker group",
    "# Watch a directory and rebuild when a file changes",
    "# Print the 5 most recent git commits",
    "# Compress log files older than 7 days",
    "# Wait until a TCP port is open",
]


def score(script: str, prompt: str) -> tuple[int, bool, int, bool]:
    """(code lines, has a license line, tldr-style lines, bash -n accepts it) of one printed script."""
    body = script.split(prompt, 1)[-1]
    lines = [ln for ln in body.split("\n") if ln.strip()]
    code = sum(1 for ln in lines if not ln.lstrip().startswith("#"))
    licence = bool(re.search(r"free software|Copyright|licen[cs]e", body, re.IGNORECASE))
    tldr = sum(1 for ln in lines if re.match(r"\s*#.*:\s*$", ln))
    ok = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True).returncode == 0
    return code, licence, tldr, ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--seeds", type=int, default=2)
    args = ap.parse_args()
    prompts = [
        ln.strip() for ln in (ROOT / "examples" / "prompts.txt").read_text().splitlines() if ln.strip()
    ]
    prompts += MORE_PROMPTS
    print(f"cpu: {cpu_model()}; {len(prompts)} prompts x {args.seeds} seeds")
    shebang, finish, ask = oneshot.SHEBANG, oneshot.finish_script, oneshot.ask

    def unfinished(prompt, text, how, parses=None):  # noqa: ANN001, ANN202
        return text

    def plain(gen, prompt, suffix, max_tokens):  # noqa: ANN001, ANN202
        return gen.plain_prompt(prompt, max_tokens), None

    variants = {
        "plain (no shebang, not finished)": ("", unfinished, plain, 1),
        "shebang, not finished": (shebang, unfinished, plain, 1),
        "shebang, finished, not healed": (shebang, finish, plain, 1),
        "shebang, finished, healed": (shebang, finish, ask, 1),
        f"... best of {SCRIPT_BEST_OF} (default)": (shebang, finish, ask, None),
    }
    print(
        f"{'variant':36} {'code lines':>10} {'no code':>8} {'licence':>8} {'tldr lines':>10} {'bash -n ok':>10}"
    )
    for name, (first_line, finisher, asker, best_of) in variants.items():
        oneshot.SHEBANG, oneshot.finish_script, oneshot.ask = first_line, finisher, asker
        rows = []
        for prompt in prompts:
            for seed in range(args.seeds):
                out: list[str] = []
                opts = oneshot.GenerateOptions(
                    model_path=args.model,
                    prompt=prompt,
                    suffix="",
                    max_tokens=int(surface_default("generate", "max_tokens")),
                    temperature=surface_default("generate", "temperature"),
                    top_k=int(TOP_K.default),
                    top_p=float(TOP_P.default),
                    repetition_penalty=surface_default("generate", "repetition_penalty"),
                    num_samples=1,
                    seed=seed,
                    mode="script",
                    device="cpu",
                    check=False,
                    info=False,
                    best_of=best_of,
                )
                oneshot.run_generate(opts, out.append)
                rows.append(score(out[0], prompt))
        n = len(rows)
        print(
            f"{name:36} {sum(r[0] for r in rows) / n:10.1f} {sum(r[0] == 0 for r in rows):>5}/{n} "
            f"{sum(r[1] for r in rows):>5}/{n} "
            f"{sum(r[2] for r in rows) / n:10.1f} {sum(r[3] for r in rows):>7}/{n}",
            flush=True,
        )
    oneshot.SHEBANG, oneshot.finish_script, oneshot.ask = shebang, finish, ask


if __name__ == "__main__":
    main()
