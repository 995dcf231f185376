from __future__ import annotations

import pytest

from bashcoder.engine.stops import (
    StopRule,
    choose_mode,
    close_compounds,
    repetition_cut,
    stop_rule_for,
    trim_suffix_overlap,
)


def test_line_mode_ends_at_the_newline() -> None:
    rule = StopRule("line")
    assert rule.cut("echo hi") is None
    assert rule.cut("echo hi\necho more") == len("echo hi")


def test_line_mode_after_a_finished_line_completes_the_next_one() -> None:
    assert StopRule("line").cut("\necho next\nmore") == len("\necho next")


def test_block_mode_ends_at_a_blank_line() -> None:
    text = "echo a\necho b\n\necho c"
    assert StopRule("block", 0).cut(text) == len("echo a\necho b")


def test_block_mode_ends_at_a_dedent_below_the_cursor() -> None:
    text = "  echo a\n  echo b\nfi\n"
    assert StopRule("block", 2).cut(text) == len("  echo a\n  echo b")


def test_block_mode_waits_for_the_line_to_finish() -> None:
    assert StopRule("block", 2).cut("  echo a\nf") is None


def test_auto_mode_asks_a_block_where_lines_are_about_to_be_written() -> None:
    # an empty line, whatever came before it
    assert choose_mode("if [ -f x ]; then\n") == "block"
    assert choose_mode("for f in *; do\n  ") == "block"
    assert choose_mode("# list the files\n") == "block"
    assert choose_mode("echo hi\n") == "block"
    # the end of a line that has just opened a compound's body
    for line in (
        "for f in *; do",
        "if [ -f x ]; then",
        "case $1 in",
        "f() {",
        "  else",
        "while :; do ",
        "[ -d x ] || {",
    ):
        assert choose_mode(f"echo a\n{line}") == "block", line
    # mid-line, and words on their way to something else: a line
    for typed in (
        "tar -czf ",
        "do",
        "  do",
        "echo ${",
        "echo {",
        "for f in",
        "docker",
        "cd build; do",
        "# build it; then",
        'echo "step 1; then',
        "x=${a:-{",
        "for f in *; do echo $f; do",  # a one-line loop on its way to `done`
        "if [ -f x ]; then echo y; then",
    ):
        assert choose_mode(f"echo a\n{typed}") == "line", typed
    # text after the cursor on its line: a line fits between
    assert choose_mode("echo hi\n", suffix="  # done\nexit") == "line"
    assert choose_mode("for f in *; do", suffix=" # each\n") == "line"
    # an empty line with code right after it: a line, unless under an opener or a comment
    assert choose_mode("echo hi\n", suffix="\nexit 0\n") == "line"
    assert choose_mode("# list the files\n", suffix="\nexit 0\n") == "block"
    assert choose_mode("echo hi\n", suffix="\n\nexit 0\n") == "block"
    assert choose_mode("anything", "block") == "block"
    assert choose_mode("\n", "line") == "line"


def test_stop_rule_at_the_end_of_an_opener_line_ends_before_its_closer() -> None:
    rule = stop_rule_for("while read -r line; do")
    assert rule.mode == "block"
    text = '\n  echo "$line"\ndone\necho after\n'
    assert rule.cut(text) == len('\n  echo "$line"')


def test_stop_rule_for_the_body_of_a_compound() -> None:
    rule = stop_rule_for("while read -r line; do\n")
    assert rule.mode == "block"
    assert rule.cut('  echo "$line"\ndone\n') == len('  echo "$line"')


def test_trim_suffix_overlap() -> None:
    assert trim_suffix_overlap('echo "$x"', '"\nnext') == 'echo "$x'
    assert trim_suffix_overlap("done", "done\n") == ""
    assert trim_suffix_overlap("echo a", "") == "echo a"


def test_close_compounds_only_when_the_suffix_lacks_them() -> None:
    pre = "#!/bin/bash\n"
    comp = "if [ -d x ]; then\n  echo yes"
    assert close_compounds(pre, comp, "") == comp + "\nfi"
    assert close_compounds(pre, comp, "\nfi\n") == comp
    loop = "for f in *; do\n  case $f in\n    *.sh) echo $f ;;"
    assert close_compounds(pre, loop, "") == loop + "\n  esac\ndone"
    assert close_compounds(pre, "f() {\n  echo", "") == "f() {\n  echo\n}"
    assert close_compounds(pre, "echo fine", "") == "echo fine"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("tar -c -f -e -e -e -e", "tar -c -f -e"),
        ('grep -e "s/lib/lib/lib/lib/lib/li', 'grep -e "s/lib'),
        ("p 0 0 0 0 0 0 ", "p 0"),
        ("ababababab", "ab"),
        ("pip3 install --no-deps --no-deps --no-deps", "pip3 install --no-deps"),
        ("git stress --parallel 10 --parallel 10 --parallel 10 ", "git stress --parallel 10"),
        (
            "x\n" + "Loop over the arguments and print each one:\n" * 3,
            "x\nLoop over the arguments and print each one:",
        ),
    ],
)
def test_a_looping_completion_is_cut_after_its_first_copy(text: str, kept: str) -> None:
    assert text[: repetition_cut(text)] == kept
    assert StopRule("line" if "\n" not in text else "script").cut(text) == len(kept)


@pytest.mark.parametrize(
    "text",
    [
        "tmp=$(mktemp /tmp/backup.XXXXXXXXXX)",
        "echo '=========================='",
        "                indented",
        "cd ../../../",
        "0 0 * * * /usr/bin/backup",
        "echo -e -e -e",  # three copies are not yet a loop
        "re='^([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})\\.",  # a pattern, no blank: not a loop of words
        "cp --no-deps --no-deps x",  # two copies of a word
        "cd ..\ncd ..\nls\n",  # short lines twice
        "",
    ],
)
def test_bash_with_runs_of_its_own_is_not_cut(text: str) -> None:
    assert repetition_cut(text) is None
    assert StopRule("line" if "\n" not in text else "script").cut(text) is None
