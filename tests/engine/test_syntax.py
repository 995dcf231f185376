from __future__ import annotations

from bashcoder.engine.syntax import (
    adds_parse_errors,
    bash_check,
    candidate_ok,
    candidates_ok,
    code_share,
    error_count,
    rank,
)


def test_bash_n_is_the_authority() -> None:
    assert bash_check("for i in 1 2; do echo $i; done\n").ok
    bad = bash_check("if true; then echo\n")
    assert not bad.ok and "end of file" in bad.message


def test_bash_n_never_runs_the_code(tmp_path) -> None:  # noqa: ANN001
    marker = tmp_path / "ran"
    assert bash_check(f"touch {marker}\n").ok
    assert not marker.exists()


def test_tree_sitter_counts_errors() -> None:
    assert error_count("echo hi\n") == 0
    assert error_count("if x; then\n") > 0


def test_relative_tree_sitter_check() -> None:
    assert not adds_parse_errors("for i in 1; do\n", "  echo $i\n", "done\n")
    assert adds_parse_errors("echo start\n", "if (( x\n", "echo end\n")


def test_candidate_ok_against_prefix_and_suffix() -> None:
    assert candidate_ok("for i in 1 2; do\n", "  echo $i\n", "done\n")
    assert not candidate_ok("for i in 1 2; do\n", "  echo $i\nfi\n", "done\n")
    assert not candidate_ok("echo ok\n", 'echo "unclosed\n', "")


def test_rank_puts_valid_candidates_first() -> None:
    assert rank([(False, -0.1), (True, -2.0), (True, -1.0), (None, -3.0)]) == [2, 1, 3, 0]


def test_code_share_counts_non_blank_lines_that_are_not_comments() -> None:
    assert code_share("# list files\n\nls -la\n  # sorted\nsort\n") == 0.5
    assert code_share("ls\n") == 1.0
    assert code_share("# only prose\n#+ more\n") == 0.0
    assert code_share("\n  \n") == 0.0


def test_a_script_that_is_mostly_comments_ranks_after_code_but_never_before_a_valid_one() -> None:
    prose = (True, -0.3, code_share("# This script lists\n# the files\nls\n"))
    code = (True, -1.2, code_share("ls -la\nfind . -type f\n"))
    broken = (False, -0.1, 1.0)
    # Without shares the likelier prose wins; with them, the code does; a script bash rejects stays last.
    assert rank([prose[:2], code[:2], broken[:2]]) == [0, 1, 2]
    assert rank([prose, code, broken]) == [1, 0, 2]


CURSORS = [
    ("for i in 1 2; do\n", "done\n"),
    ("echo ok\n", ""),
    ("if [ -f x ]; then\n  echo 'unterminated\n", "fi\n"),  # mid-edit: no line makes it parse
    ("", ""),
]
CANDIDATES = ["  echo $i\n", "  echo $i\nfi\n", 'echo "unclosed\n', "'\n", ": ok"]


def test_candidates_checked_side_by_side_agree_with_one_at_a_time() -> None:
    for prefix, suffix in CURSORS:
        together = candidates_ok(prefix, CANDIDATES, suffix)
        alone = [candidate_ok(prefix, c, suffix) for c in CANDIDATES]
        assert together == alone, (prefix, suffix)
    assert candidates_ok("echo\n", [], "") == []
