"""Prefill + decode with the KV cache: the Generator.

Owns the loop that turns a prompt's token ids into candidate completions:
prefix-cache reuse across calls, N candidates from one prefill, sampling,
stop rules, staleness checks. Text layout (FIM, windows) is in `fim`, the
dtype policy in `device`, candidate post-processing in `stops`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from bashcoder.engine.checkpoint import LoadedModel
from bashcoder.engine.chunked import ChunkedEncoder
from bashcoder.engine.device import DevicePlan, autocast, model_forward
from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.fim import FimTokens, spm
from bashcoder.engine.healing import Healing, Vocabulary
from bashcoder.engine.knobs import (
    DEADLINE_MIN_TOKENS,
    MAX_TOKENS,
    REPETITION_PENALTY,
    TEMPERATURE,
    TOP_K,
    TOP_P,
)
from bashcoder.engine.model import KVCache
from bashcoder.engine.sampling import apply_repetition_penalty, sample
from bashcoder.engine.stops import StopRule
from bashcoder.engine.windows import window_prefix, window_suffix


@dataclass(frozen=True)
class SamplingConfig:
    """How to draw tokens."""

    temperature: float = TEMPERATURE.default
    """0 = greedy (argmax); higher = more varied."""
    top_k: int = int(TOP_K.default)
    """Keep only the k most likely tokens (0 = all)."""
    top_p: float = TOP_P.default
    """Keep the smallest set of tokens whose probability reaches p (1 = all)."""
    repetition_penalty: float = REPETITION_PENALTY.default
    """> 1 discourages tokens already in the completion."""
    max_tokens: int = int(MAX_TOKENS.default)
    """Most new tokens per candidate."""
    num_candidates: int = 1
    """Candidates sampled in one batch from a single prefill."""
    seed: int | None = None
    """Seed of the explicit torch.Generator; None = fresh randomness."""
    greedy_first: bool = False
    """The first candidate takes the most likely token at every step while the others sample at
    `temperature`: ghost text stays the same at the same cursor, and a menu's other candidates
    still differ from it."""

    def __post_init__(self) -> None:
        # The ranges are the knobs' (engine/knobs.py), except that a caller of the engine may ask
        # for any temperature and any length: only the user-facing surfaces cap them.
        if self.temperature < 0:
            raise BashcoderError(f"temperature {self.temperature} is negative; use 0 (greedy) or more.")
        TOP_P.check(self.top_p)
        TOP_K.check(self.top_k)
        REPETITION_PENALTY.check(self.repetition_penalty)
        if self.max_tokens < 1:
            raise BashcoderError(f"max_tokens {self.max_tokens} must be at least 1.")
        if self.num_candidates < 1:
            raise BashcoderError(f"num_candidates {self.num_candidates} must be at least 1.")


@dataclass
class Candidate:
    """One sampled completion."""

    text: str
    token_ids: list[int]
    logprob: float
    """Sum of the chosen tokens' log-probabilities under the model (before temperature)."""
    finish: str
    """'stop' (a stop rule), 'eot' (end of text), 'length' (max tokens or context),
    'time' (the deadline came first: the text so far)."""
    syntax_ok: bool | None = None

    @property
    def mean_logprob(self) -> float:
        return self.logprob / max(1, len(self.token_ids))


class Stale(Exception):  # noqa: N818 - a signal, not an error
    """The request was cancelled or superseded while decoding."""


@dataclass(frozen=True)
class Halt:
    """When decoding must end early, carried from the request down to the decode loop.

    `is_stale()` turning true raises `Stale` (checked before every step: the
    request was cancelled or superseded). Past `deadline` (`time.perf_counter()`
    seconds) no decode step starts that the last one's duration says would end
    after it, and unfinished candidates end with finish 'time'; the first
    `DEADLINE_MIN_TOKENS` tokens are written whatever the clock says.
    """

    is_stale: Callable[[], bool] | None = None
    deadline: float | None = None

    def check(self) -> None:
        """Raise `Stale` if the request is stale."""
        if self.is_stale is not None and self.is_stale():
            raise Stale()

    def out_of_time(self, tokens: int, now: float, step_s: float) -> bool:
        """Whether a step starting `now` and lasting `step_s` would end past the deadline, after `tokens` tokens."""
        return self.deadline is not None and tokens >= DEADLINE_MIN_TOKENS and now + step_s > self.deadline


@dataclass
class _PrefixCache:
    """The last prompt's KV cache, in as many rows as the last call sampled.

    A prefill computes row 0 only; the other rows get copies of the positions
    it wrote, so a keystroke that adds two tokens copies two positions rather
    than the whole prompt. Decoding writes only positions after the prompt,
    which the next call's prefill truncates away, so every row stays equal
    to row 0 over the prompt (`synced` rows do).
    """

    ids: list[int] = field(default_factory=list)
    cache: KVCache | None = None
    synced: int = 1
    """Rows whose prompt positions equal row 0's."""


def common_prefix_len(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class Generator:
    """Runs a loaded model; one call at a time (a lock guards the prefix cache)."""

    def __init__(self, loaded: LoadedModel, plan: DevicePlan) -> None:
        self.loaded = loaded
        self.plan = plan
        self.model = loaded.model
        self._forward = model_forward(self.model, plan)
        """Runs the model's inference forwards: the model, or its ONNX Runtime graphs (see `device`)."""
        self.tokenizer = loaded.tokenizer
        self.cfg = loaded.config
        self.fim = FimTokens(
            self.tokenizer.fim_prefix_id,
            self.tokenizer.fim_suffix_id,
            self.tokenizer.fim_middle_id,
            self.tokenizer.eot_id,
        )
        self._special = self.tokenizer.special_ids
        self._prompt_encoder = ChunkedEncoder(self.tokenizer)
        self.vocabulary = Vocabulary(self.tokenizer)
        # One cache per kind of prompt (SPM or left to right, by whether it starts with
        # <|fim_suffix|>): a completion reranked by the suffix asks both ways at every
        # keystroke (`rerank`), and one cache would prefill each prompt from scratch.
        self._prefixes: dict[bool, _PrefixCache] = {False: _PrefixCache(), True: _PrefixCache()}
        self._lock = threading.Lock()
        self.last_reused = 0
        """Prompt tokens served from the prefix cache by the last call (for benchmarks)."""

    def reset_cache(self) -> None:
        """Forget the previous prompt, so the next call prefills from scratch."""
        with self._lock:
            self._prefixes = {False: _PrefixCache(), True: _PrefixCache()}

    # ---- prompts -------------------------------------------------------
    PROMPT_ROOM = 11
    """Context positions every prompt shape keeps for the prompt (FIM: 3 special tokens and 8 of text)."""

    @property
    def max_new_tokens(self) -> int:
        """The largest max_tokens every prompt shape accepts: the context less `PROMPT_ROOM`."""
        return self.cfg.context_length - self.PROMPT_ROOM

    def check_max_tokens(self, max_tokens: int, flag: str = "max tokens") -> None:
        """BashcoderError naming `flag` and the limit when `max_tokens` leaves no room for a prompt."""
        if max_tokens > self.max_new_tokens:
            raise BashcoderError(
                f"{flag} {max_tokens} leaves no room for a prompt in this model's {self.cfg.context_length}-token "
                f"context; pass {self.max_new_tokens} or less."
            )

    def count_tokens(self, text: str) -> int:
        return self._prompt_encoder.count(text)

    def plain_prompt(self, text: str, max_tokens: int) -> list[int]:
        """A left-to-right prompt: <|endoftext|> marks a document start, far end dropped first."""
        ids = [self.tokenizer.eot_id, *self._prompt_encoder.encode(text)]
        budget = self.cfg.context_length - max_tokens
        if budget < 2:
            self.check_max_tokens(max_tokens)
        return ids[-budget:] if len(ids) > budget else ids

    def left_to_right_prompt(self, prefix: str, max_tokens: int) -> list[int]:
        """A plain prompt for a cursor with nothing after it, windowed as `fim_prompt` windows its prefix.

        The window starts at a line start that moves only in steps, so typing
        keeps the KV cache; <|endoftext|> leads only when the window holds the
        text from its start. BashcoderError when `max_tokens` leaves no room.
        """
        budget = self.cfg.context_length - max_tokens - 1
        if budget < 8:
            self.check_max_tokens(max_tokens)
        step = max(256, 2 * budget)  # as fim_prompt
        text = window_prefix(prefix, self.count_tokens, budget, step_chars=step)
        ids = self._prompt_encoder.encode(text)
        return [self.tokenizer.eot_id, *ids] if len(text) == len(prefix) else ids

    def cursor_prompt(self, prefix: str, suffix: str, max_tokens: int) -> tuple[list[int], Healing | None]:
        """The prompt for a cursor between `prefix` and `suffix` as every surface asks, and its healing.

        With only whitespace after the cursor (a terminal's line, the end of a
        file) the model reads left to right: FIM with an empty suffix is a shape
        training seldom shows (its two random cuts rarely end a document), and
        asked that way the shipped tiny model got the next word of held-out
        command lines right 26% of the time against 40% left to right, the rest
        of the line 11% against 20% (bench/cursor_prompt.py). Otherwise SPM.
        The token at the cursor is healed either way (`heal`, `heal_last`).
        """
        if suffix.strip():
            return self.heal(self.fim_prompt(prefix, suffix, max_tokens))
        return self.heal_last(self.left_to_right_prompt(prefix, max_tokens))

    def fim_prompt(self, prefix: str, suffix: str, max_tokens: int, suffix_share: float = 0.25) -> list[int]:
        """An SPM prompt for a cursor between `prefix` and `suffix`, windowed to fit the context."""
        budget = self.cfg.context_length - max_tokens - 3
        if budget < 8:
            self.check_max_tokens(max_tokens)
        suffix_text = window_suffix(suffix, self.count_tokens, int(budget * suffix_share)) if suffix else ""
        suffix_ids = self._prompt_encoder.encode(suffix_text)
        step = max(256, 2 * budget)  # chars; ~half a window of bash at ~4 chars/token
        prefix_text = window_prefix(prefix, self.count_tokens, budget - len(suffix_ids), step_chars=step)
        return spm(self._prompt_encoder.encode(prefix_text), suffix_ids, self.fim)

    # ---- decoding ------------------------------------------------------
    @torch.inference_mode()
    def generate(
        self,
        prompt_ids: Sequence[int],
        sampling: SamplingConfig,
        stop: StopRule | None = None,
        halt: Halt | None = None,
        on_text: Callable[[int, str], None] | None = None,
        healing: Healing | None = None,
    ) -> list[Candidate]:
        """Sample `sampling.num_candidates` completions of `prompt_ids`.

        `halt` ends decoding early:
        `Stale` is raised when the request goes stale, and candidates end with
        finish 'time' at its deadline. `on_text(row, text_so_far)` streams each
        candidate's text. With `healing`, each candidate first writes
        `healing.text` again (see `healing`), and its text is what follows.
        """
        with self._lock:
            return self._generate(list(prompt_ids), sampling, stop, halt or Halt(), on_text, healing)

    def _prefill(self, prompt: list[int], rows: int) -> tuple[KVCache, torch.Tensor]:
        """A cache of `rows` rows holding `prompt`, and the logits after its last token."""
        pc = self._prefixes[prompt[0] == self.fim.suffix]
        reuse = common_prefix_len(pc.ids, prompt)
        reuse = min(reuse, len(prompt) - 1)  # feed at least one token to get logits
        reuse = max(reuse, 0)
        if pc.cache is None or pc.cache.batch < rows:
            grown = KVCache.allocate(self.cfg, rows, self.plan.device, self._cache_dtype())
            if pc.cache is not None:  # keep what row 0 holds; the new rows sync below
                grown.k[:, :1, :, :reuse] = pc.cache.k[:, :1, :, :reuse]
                grown.v[:, :1, :, :reuse] = pc.cache.v[:, :1, :, :reuse]
                grown.length = reuse
            else:
                reuse = 0
            pc.cache, pc.synced = grown, 1
        cache = pc.cache
        cache.truncate(reuse)
        pc.ids = prompt[:reuse]  # valid even if the forward below is interrupted
        new = torch.tensor([prompt[reuse:]], device=self.plan.device)
        dtype = self.plan.prefill_dtype if new.shape[1] > 1 else self.plan.decode_dtype
        row0 = cache.rows(1)
        with autocast(self.plan.device, dtype):
            logits = self._forward(new, row0, last_only=True)
        cache.length = row0.length
        # Rows already in sync need the new positions; the others the whole prompt.
        cache.copy_row0(range(1, min(pc.synced, rows)), reuse, len(prompt))
        cache.copy_row0(range(max(1, pc.synced), rows), 0, len(prompt))
        pc.synced = rows  # rows past `rows` missed this prompt's new positions
        pc.ids = list(prompt)
        self.last_reused = reuse
        return cache.rows(rows), logits[:, -1].float()

    @torch.inference_mode()
    def score(self, prompt_ids: Sequence[int], continuations: Sequence[Sequence[int]]) -> list[float]:
        """The log-probability (nats, summed over tokens) of each continuation right after `prompt_ids`.

        Teacher-forced: the prompt is prefilled once (through the prefix cache,
        like `generate`), then all continuations run as one batch of rows on
        it. BashcoderError when the prompt and the longest continuation do not
        fit the context, or a continuation is empty.
        """
        prompt, conts = list(prompt_ids), [list(c) for c in continuations]
        if not prompt or not conts or not all(conts):
            raise BashcoderError("scoring needs a prompt and non-empty continuations.")
        width = max(map(len, conts))
        if len(prompt) + width > self.cfg.context_length:
            raise BashcoderError(
                f"prompt of {len(prompt)} tokens and a continuation of {width} exceed the "
                f"{self.cfg.context_length}-token context."
            )
        with self._lock:
            cache, first = self._prefill(prompt, len(conts))
            logprobs = [torch.log_softmax(first[:1], dim=-1)[0]] * len(conts)
            if width > 1:  # the rows' own tokens but the last, right-padded: padding is never read back
                idx = torch.zeros(len(conts), width - 1, dtype=torch.long, device=self.plan.device)
                for r, c in enumerate(conts):
                    idx[r, : len(c) - 1] = torch.tensor(c[:-1])
                # The torch model: the runtime's graphs give the last position's logits only.
                logits = torch.log_softmax(self.model(idx, cache).float(), dim=-1)
            scores = []
            for r, c in enumerate(conts):
                total = logprobs[r][c[0]].item()
                if len(c) > 1:
                    total += logits[r, torch.arange(len(c) - 1), torch.tensor(c[1:])].sum().item()
                scores.append(total)
            return scores

    def _cache_dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    def _generate(
        self,
        prompt: list[int],
        s: SamplingConfig,
        stop: StopRule | None,
        halt: Halt,
        on_text: Callable[[int, str], None] | None,
        healing: Healing | None = None,
    ) -> list[Candidate]:
        if not prompt:
            raise BashcoderError("empty prompt; give some text to complete.")
        if len(prompt) >= self.cfg.context_length:
            raise BashcoderError(
                f"prompt of {len(prompt)} tokens fills the {self.cfg.context_length}-token context."
            )
        halt.check()
        n = s.num_candidates
        # Candidates decode in the prefix cache itself: decoding only writes
        # positions after the prompt, which the next call truncates away.
        cache, logits = self._prefill(prompt, n)
        logits = logits.expand(n, -1)
        gen = torch.Generator(device="cpu")
        if s.seed is not None:
            gen.manual_seed(s.seed)
        else:
            gen.seed()
        max_new = min(s.max_tokens, self.cfg.context_length - len(prompt))
        rows = [_Row(pending=healing.data if healing else b"") for _ in range(n)]
        skip = healing.text if healing else ""
        history = torch.empty((n, 0), dtype=torch.long, device=self.plan.device)
        step_s = 0.0  # the last decode step's duration: what the next one will likely take
        for step in range(max_new):
            halt.check()
            logits = apply_repetition_penalty(logits, history, s.repetition_penalty)
            masked = self._heal_mask(logits, rows)
            next_ids = sample(masked, gen, s.temperature, s.top_k, s.top_p)
            if s.greedy_first and s.temperature > 0:
                next_ids[0] = masked[0].argmax()
            logprobs = torch.log_softmax(logits.float(), dim=-1).gather(1, next_ids[:, None]).squeeze(1)
            ids_list = next_ids.tolist()
            lp_list = logprobs.tolist()
            for r, row in enumerate(rows):
                if row.finish is None:
                    if row.pending:
                        row.pending = self.vocabulary.advance(row.pending, ids_list[r])
                    self._advance(row, ids_list[r], lp_list[r], stop, skip)
                    if on_text is not None:
                        on_text(r, row.text)
            if all(row.finish is not None for row in rows):
                break
            started = time.perf_counter()
            if halt.out_of_time(step + 1, started, step_s):
                for row in rows:
                    row.finish = row.finish or "time"
                break
            history = torch.cat([history, next_ids[:, None]], dim=1)
            with autocast(self.plan.device, self.plan.decode_dtype):
                logits = self._forward(next_ids[:, None], cache, last_only=True)[:, -1].float()
            step_s = time.perf_counter() - started
        return [Candidate(row.text, row.ids, row.logprob, row.finish or "length") for row in rows]

    def _heal_mask(self, logits: torch.Tensor, rows: list[_Row]) -> torch.Tensor:
        """`logits` with every token that does not spell a row's pending healed bytes at -inf."""
        if not any(row.pending for row in rows):
            return logits
        masked = logits.clone()
        for r, row in enumerate(rows):
            if row.pending and row.finish is None:
                keep = torch.tensor(self.vocabulary.allowed(row.pending), device=logits.device)
                masked[r] = torch.full_like(logits[r], float("-inf")).index_copy_(0, keep, logits[r, keep])
        return masked

    def _advance(self, row: _Row, token: int, logprob: float, stop: StopRule | None, skip: str = "") -> None:
        if token in self._special:
            row.finish = "eot"
            return
        row.ids.append(token)
        row.logprob += logprob
        if row.pending:  # still writing the healed text again: nothing to show yet
            return
        text = self.tokenizer.decode(row.ids)
        # The healed bytes are whole characters, so the decoded text starts with them.
        text = text[len(skip) :] if text.startswith(skip) else text
        if stop is not None:
            cut = stop.cut(text)
            if cut is not None:
                row.text = text[:cut]
                row.finish = "stop"
                return
        row.text = text

    def complete(
        self,
        prefix: str,
        suffix: str,
        sampling: SamplingConfig,
        stop: StopRule | None = None,
        halt: Halt | None = None,
    ) -> list[Candidate]:
        """Completion at a cursor between `prefix` and `suffix` (`cursor_prompt`), the word at the cursor healed."""
        prompt, healing = self.cursor_prompt(prefix, suffix, sampling.max_tokens)
        return self.generate(prompt, sampling, stop, halt, healing=healing)

    def heal(self, prompt: list[int]) -> tuple[list[int], Healing | None]:
        """An SPM prompt without its last prefix token, and that token's healing (see `healing`)."""
        if len(prompt) < 3 or prompt[-2] in self._special:
            return prompt, None
        healing = self.vocabulary.healing(prompt[-2])
        return (prompt[:-2] + prompt[-1:], healing) if healing else (prompt, None)

    def heal_last(self, prompt: list[int]) -> tuple[list[int], Healing | None]:
        """A left-to-right prompt without its last token, and that token's healing (see `healing`)."""
        if len(prompt) < 2 or prompt[-1] in self._special:
            return prompt, None
        healing = self.vocabulary.healing(prompt[-1])
        return (prompt[:-1], healing) if healing else (prompt, None)


@dataclass
class _Row:
    ids: list[int] = field(default_factory=list)
    text: str = ""
    logprob: float = 0.0
    finish: str | None = None
    pending: bytes = b""
    """Healed bytes this row has still to write."""
