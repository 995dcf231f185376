"""Every completion knob in one place: its name, default and valid range (no torch here).

The engine owns these; every surface reads them: `SamplingConfig` and
`CompletionRequest`, the language server's settings (and through them the
VS Code extension's `package.json` and the Neovim help), the REPL's
`Settings` and the click options of `bashcoder-repl` and
`bashcoder-generate`. A surface that wants another default says so in one
line with its reason, in `SURFACE_DEFAULTS` below; tests/test_knobs.py checks
that every surface agrees with this table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from bashcoder.engine.errors import BashcoderError

Mode = Literal["line", "block", "auto"]
MODES: tuple[Mode, ...] = ("line", "block", "auto")
"""'line' stops at the end of the line, 'block' at the end of the compound command or a blank line,
'auto' decides from the cursor's context (engine/stops.py)."""

DEADLINE_MIN_TOKENS = 4
"""Tokens a candidate always gets, time budget or not: a cold prefill of a whole file can spend the
whole budget reading it, and a suggestion of nothing helps no one."""
RERANK_COST_FACTOR = 10.0
"""Under a time budget, the rerank (engine/rerank.py) runs only when the budget left is at least this
many times what the FIM line took: drawing 5 lines left to right and scoring them cost ~10x the FIM
line (bench/fim_rerank.py, 2-core AMD EPYC: p50 75 ms -> 670 ms). So on that CPU the 100 ms default
keeps the FIM line alone, and a GPU, or `timeBudgetMs` 0, gets the reranked one."""
ANSWER_RESERVE_MS = 5.0
"""Decoding ends this long before the time budget runs out, so the whole answer (post-processing, the
reply on the wire) is within it: bench/lsp_latency.py measured p95 102.8 ms under a 100 ms budget
without a reserve (2-core AMD EPYC)."""
BLOCK_BUDGET_FACTOR = 4
"""A multi-line suggestion may take this many times the time budget: its value is its length."""
MIN_SUGGESTION_CHARS = 2
"""Shorter suggestions (after trimming) are not shown."""


@dataclass(frozen=True)
class Knob:
    """One number a user may set, with its default and inclusive range."""

    name: str
    """The Python name (snake_case); clients' wire names are camelCase of it."""
    default: float
    """The value when nothing is set."""
    lo: float
    """Smallest valid value (excluded when `open_lo`)."""
    hi: float | None
    """Largest valid value; None = no upper bound."""
    integer: bool
    """Whole numbers only."""
    open_lo: bool = False
    """True when `lo` itself is not valid (top_p: 0 would keep no token)."""
    hint: str = ""
    """What a value means, for error messages ("0 = greedy")."""

    def describe_range(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        if self.hi is None:
            return f"{kind} >= {self.lo:g}"
        if self.open_lo:
            return f"{kind} above {self.lo:g} and up to {self.hi:g}"
        return f"{kind} from {self.lo:g} to {self.hi:g}"

    def valid(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if not math.isfinite(value) or (self.integer and not float(value).is_integer()):
            return False
        if value < self.lo or (self.open_lo and value == self.lo):
            return False
        return self.hi is None or value <= self.hi

    def check(self, value: object, where: str = "") -> float:
        """`value` when it is valid; else BashcoderError naming the knob, the range and the default."""
        if not self.valid(value):
            hint = f" ({self.hint})" if self.hint else ""
            raise BashcoderError(
                f"{where or self.name} {value!r} is invalid: expected {self.describe_range()}{hint}; "
                f"the default is {self.default:g}."
            )
        return int(value) if self.integer else float(value)  # type: ignore[arg-type]


TEMPERATURE = Knob("temperature", 0.2, 0.0, 2.0, integer=False, hint="0 = greedy")
TOP_K = Knob("top_k", 40, 0, None, integer=True, hint="0 = off")
TOP_P = Knob("top_p", 0.95, 0.0, 1.0, integer=False, open_lo=True, hint="1 = off")
REPETITION_PENALTY = Knob("repetition_penalty", 1.0, 0.0, None, integer=False, open_lo=True, hint="1 = off")
MAX_TOKENS = Knob("max_tokens", 64, 1, 4096, integer=True, hint="capped at half the model's context")
TIME_BUDGET_MS = Knob("time_budget_ms", 100, 0, 60000, integer=True, hint="0 = no limit")
CANDIDATES = Knob("candidates", 1, 1, 16, integer=True)
DEFAULT_MODE: Mode = "auto"

KNOBS: dict[str, Knob] = {
    k.name: k for k in (TEMPERATURE, TOP_K, TOP_P, REPETITION_PENALTY, MAX_TOKENS, TIME_BUDGET_MS, CANDIDATES)
}

SCRIPT_MAX_TOKENS = 256
"""Most tokens a whole script gets (`bashcoder-generate`, the LSP's generate command, the REPL's Ctrl-G)."""
SCRIPT_BEST_OF = 4
"""Whole scripts drawn per request where one is shown (`bashcoder-generate --best-of`, the LSP's
generate command): the best by `syntax.rank_key` is shown. On the shipped tiny, 16 description
prompts x 3 seeds (bench/script_quality.py): one draw held no line of code in 14 of 48 scripts,
the best of 4 in 1; code lines a script 11.2 -> 17.9. The 4 rows decode together from one
prefill, ~1.1 s more than one on a 2-core CPU."""
MIN_CODE_SHARE = 0.5
"""A script whose lines are less than this share code (not comments, not blank) ranks after those
that are not: under `# Back up a directory` a user asked for commands, not more prose."""
SCRIPT_TEMPERATURE = 0.7
"""Scripts are sampled warmer than ghost text: over hundreds of tokens 0.2 falls into loops."""

GHOST_TEMPERATURE = 0.0
"""Ghost text is greedy, in the terminal and in the editor: sampled at 0.2, the same `git st` got
another suggestion from run to run (`git status --porcelain`, `git star`, `git step 2>&1` were
seen), and a shell's autosuggestions repeat. (Greedy is no better per line: what it shows depends on
the directory listing in the prompt, `git stash pop`, `git status` or `git step`.) Measured no worse
for it (bench/repl_history.py, 200 typed commands, shipped tiny, 2-core AMD EPYC): model suggestions
22.9% of typed characters accepted greedy against 23.8% at 0.2, with history first 39.2% against
40.0% (one seed; an earlier 400 held-out lines: equal), answers 50 against 57 ms. In the editor
(bench/lsp_latency.py --mode auto --max-tokens 64, AMD EPYC with AVX-512): 4.5 characters right per
suggestion greedy against 4.2 at 0.2, 17.9% against 17.0% right to their end. Further candidates
(the Tab menu, the server's `candidates` > 1) are drawn at MENU_TEMPERATURE so they differ."""
MENU_TEMPERATURE = 0.8
"""The temperature of candidates after the first when ghost text is greedy: the REPL's Tab menu
(`menu_temperature`), and the language server's other candidates at `temperature` 0
(`SamplingConfig.greedy_first` keeps the first greedy)."""

SURFACE_DEFAULTS: dict[tuple[str, str], tuple[float, str]] = {
    ("generate", "temperature"): (SCRIPT_TEMPERATURE, "a whole script: over hundreds of tokens 0.2 loops"),
    ("generate", "max_tokens"): (SCRIPT_MAX_TOKENS, "a whole script, not a line"),
    ("generate", "repetition_penalty"): (1.1, "a whole script: discourages repeated lines"),
    ("repl", "candidates"): (4, "the Tab menu lists several candidates; ghost text still shows one"),
    ("repl", "temperature"): (
        GHOST_TEMPERATURE,
        "a terminal's ghost text: the same line, the same suggestion",
    ),
    ("server", "temperature"): (
        GHOST_TEMPERATURE,
        "an editor's ghost text: the same cursor, the same suggestion",
    ),
}
"""Where a surface's default differs from the knob's: (surface, knob) -> (default, reason)."""


def surface_default(surface: str, name: str) -> float:
    """The default `surface` uses for knob `name` (the knob's own unless SURFACE_DEFAULTS says otherwise)."""
    override = SURFACE_DEFAULTS.get((surface, name))
    return override[0] if override is not None else KNOBS[name].default


def check_mode(value: object, where: str = "mode") -> Mode:
    if value not in MODES:
        raise BashcoderError(f"{where} {value!r} is unknown: use one of {', '.join(MODES)}.")
    return value  # type: ignore[return-value]
