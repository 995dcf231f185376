"""The whole suggestion at a cursor (engine/completer.py): type-through, post-processing, line endings,
text after the cursor, closers, tabs, extglob, text the tokenizer cannot take."""

from __future__ import annotations

import pytest
import torch

from bashcoder.engine.checkpoint import LoadedModel
from bashcoder.engine.completer import (
    Completer,
    CompletionRequest,
    Suggestion,
    _Last,
    complete_lines,
    cut_at_line_rest,
    line_ending,
    postprocess,
    type_through,
    whole_lines,
)
from bashcoder.engine.device import plan_for
from bashcoder.engine.generate import Candidate, Generator, SamplingConfig
from bashcoder.engine.stops import close_compounds
from bashcoder.engine.syntax import bash_check, candidate_ok

GREEDY = SamplingConfig(temperature=0, max_tokens=24)


@pytest.fixture
def gen(micro_model, bpe_tokenizer) -> Generator:  # noqa: ANN001
    loaded = LoadedModel(micro_model, bpe_tokenizer, micro_model.cfg, None, {})  # type: ignore[arg-type]
    return Generator(loaded, plan_for(torch.device("cpu")))


def test_completer_type_through_answers_without_the_model(gen: Generator) -> None:
    comp = Completer(gen)
    req = CompletionRequest("#!/bin/bash\ndir=", "", "line", SamplingConfig(temperature=0, max_tokens=20))
    first = comp.complete(req)
    assert first and not first[0].from_cache
    typed = first[0].text[:2]
    again = comp.complete(CompletionRequest(req.prefix + typed, "", "line", req.sampling))
    assert again[0].from_cache and again[0].text == first[0].text[2:]


def test_type_through_needs_the_same_suffix_and_a_matching_start() -> None:
    last = _Last("echo ", "\n", [Suggestion("hello world", -1.0, True, "line")])
    assert type_through(last, "echo he", "\n")[0].text == "llo world"  # type: ignore[index]
    assert type_through(last, "echo x", "\n") is None
    assert type_through(last, "echo he", "other") is None


def test_a_whole_script_that_is_mostly_comments_ranks_after_one_that_is_code(gen: Generator) -> None:
    comp = Completer(gen)
    req = CompletionRequest("#!/bin/bash\n# list the files\n", "", "block", GREEDY, check_syntax=True)
    prose = Candidate("# This lists them\n# one per line\nls\n", [1], -0.3, "eot")
    code = Candidate("ls -la\nfind . -type f\n", [1], -1.2, "eot")
    by_logprob = comp.rank(req, [prose, code], "block")
    assert by_logprob[0].text.startswith("# This")
    by_share = comp.rank(req, [prose, code], "block", by_code_share=True)
    assert by_share[0].text.startswith("ls -la") and by_share[0].syntax_ok


def test_postprocess_drops_repeats_and_trivia() -> None:
    assert postprocess("x=", '"\n', ' "$1"', "line") == ' "$1'
    assert postprocess("", "done\n", "done", "line") == ""
    assert postprocess("", "", "   \n ", "block") == ""
    assert postprocess("if x; then\n", "", "  echo y\n\n", "block") == "  echo y\nfi"


def test_unfinished_utf8_never_reaches_the_editor(gen: Generator) -> None:
    def cand(text: str) -> Candidate:
        return Candidate(text, [1], -1.0, "stop")

    texts = ['echo "caf\ufffd', "\ufffd\ufffd", 'echo "caf', "ls -la", "e \ufffd"]
    ranked = Completer(gen).rank(
        CompletionRequest("", "\n", check_syntax=False), [cand(t) for t in texts], "line"
    )
    assert sorted(s.text for s in ranked) == ['echo "caf', "ls -la"]


def test_a_script_cut_by_the_token_limit_loses_its_unfinished_line() -> None:
    cut = complete_lines(Candidate("echo a\necho b\nech", [1, 2, 3], -1.0, "length"))
    assert cut.text == "echo a\necho b\n"
    kept = Candidate("echo a\nech", [1], -1.0, "stop")
    assert complete_lines(kept) is kept


# ---- issue 15: faults peer tools' users reported ---------------------------------------
@pytest.mark.parametrize(
    "prefix,suffix",
    [
        ("#!/bin/bash\nfor f in *.txt; do\n", ""),
        ("#!/bin/bash\nls -", "\necho done\n"),
        ("#!/bin/bash\nSRC=", "\nfor f in *; do\n  echo\ndone\n"),
    ],
)
def test_a_crlf_or_cr_document_gets_the_lf_answer_in_its_own_line_endings(
    gen: Generator, prefix: str, suffix: str
) -> None:
    lf = Completer(gen).complete(CompletionRequest(prefix, suffix, "auto", GREEDY, check_syntax=False))
    assert lf and lf[0].text.strip()
    for eol in ("\r\n", "\r"):  # Windows, and classic Mac OS (LSP counts a lone CR as a line break)
        other_prefix, other_suffix = prefix.replace("\n", eol), suffix.replace("\n", eol)
        other = Completer(gen).complete(
            CompletionRequest(other_prefix, other_suffix, "auto", GREEDY, check_syntax=False)
        )
        assert [s.text.replace(eol, "\n") for s in other] == [s.text for s in lf], eol
        assert all("\n" not in s.text.replace("\r\n", "") for s in other)  # no bare LF in either


def test_the_line_ending_is_the_documents_own() -> None:
    assert line_ending("a\r\nb", "") == "\r\n"
    assert line_ending("echo", "\r\ndone\r\n") == "\r\n"
    assert line_ending("a\nb", "\r\n") == "\n"
    assert line_ending("", "") == "\n"
    assert line_ending("a\rb", "c\rd") == "\r"
    assert line_ending("echo", "\rdone\r") == "\r"
    assert line_ending("#!/bin/bash\r\r\necho a\r\n", "") == "\r\n"  # a stray CR changes nothing
    assert line_ending("a\rb", "\n") == "\n"


@pytest.mark.parametrize(
    "prefix,suffix,model_text,shown",
    [
        ('stamp="$(date ', ')"\n', '+%F)" || exit 1', "+%F"),
        ("echo $(basename ", ")\n", "$(pwd))", "$(pwd)"),
        ('echo "', '"\n', 'hello world"', "hello world"),
        ("ls ", "\n", "-la", "-la"),
        ("if [ ", " ]; then\n", '-f "$x" ]; then', '-f "$x"'),
    ],
)
def test_a_suggestion_never_repeats_what_stands_after_the_cursor_on_its_line(
    prefix: str, suffix: str, model_text: str, shown: str
) -> None:
    assert postprocess(prefix, suffix, model_text, "line") == shown


def test_text_after_the_line_is_not_cut_for() -> None:
    assert cut_at_line_rest("echo hi", "\nfi\n") == "echo hi"


@pytest.mark.parametrize(
    "prefix",
    [
        'echo "run it again if it fails"\n',
        "cat <<EOF\nfor x in a b; do\nEOF\n",
        "msg='in case of error'\n",
        "# if this fails, while it runs, for now\n",
        "x=$'for each'\n",
    ],
)
def test_words_in_strings_comments_and_heredocs_open_no_block(prefix: str) -> None:
    assert close_compounds(prefix, "echo next", "") == "echo next"


def test_a_real_opener_is_still_closed_after_a_literal() -> None:
    assert close_compounds('echo "if"\nfor f in *; do\n', '  echo "$f"', "").endswith("\ndone")


def test_closers_keep_the_openers_tabs() -> None:
    out = close_compounds('for f in *; do\n\tif [ -f "$f" ]; then\n', '\t\techo "$f"', "")
    assert out == '\t\techo "$f"\n\tfi\ndone'


def test_valid_extglob_is_valid() -> None:
    script = "#!/bin/bash\nshopt -s extglob\nrm -- !(*.keep)\n"
    assert bash_check(script).ok
    assert candidate_ok("#!/bin/bash\nshopt -s extglob\n", "rm -- !(*.keep)", "\n")
    assert not bash_check("rm -- (\n").ok  # still a checker


def test_text_the_tokenizer_cannot_take_is_completed(gen: Generator) -> None:
    req = CompletionRequest("#!/bin/bash\necho caf\udce9\nls ", "", "line", GREEDY, check_syntax=False)
    out = Completer(gen).complete(req)  # no exception: the lone surrogate stands in as U+FFFD
    same = Completer(gen).complete(
        CompletionRequest("#!/bin/bash\necho caf\ufffd\nls ", "", "line", GREEDY, check_syntax=False)
    )
    assert [s.text for s in out] == [s.text for s in same]


def test_a_body_cut_away_entirely_is_not_shown_as_a_lone_closer() -> None:
    # `for f in *; do` + an unindented body: the stop rule ends the block before it; `done` alone
    # would make an empty loop, which bash rejects.
    assert postprocess("for f in *; do", "", "", "block") == ""
    assert postprocess("for f in *; do", "", '\n  echo "$f"', "block") == '\n  echo "$f"\ndone'


def test_a_block_cut_by_its_budget_loses_its_half_line_before_the_closers() -> None:
    def cand(text: str, finish: str) -> Candidate:
        return Candidate(text, [], 0.0, finish)

    prefix = "for f in *.log; do"
    cut = cand('\n  echo "$f"\n  sed -e \'s/(', "length")
    shown = postprocess(prefix, "", *whole_lines(cut, "block"))
    assert shown == '\n  echo "$f"\ndone' and bash_check(prefix + shown).ok
    # only a half line: kept as a line, to be typed through, with no closer after it
    assert whole_lines(cand("\n  sed -e 's/(", "time"), "block") == ("\n  sed -e 's/(", "line")
    finished = cand('\n  echo "$f"\n  gzip "$f"', "stop")
    assert whole_lines(finished, "block") == (finished.text, "block")
    assert whole_lines(cut, "line") == (cut.text, "line")
