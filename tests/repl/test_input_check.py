"""Enter runs complete bash, continues open constructs, and runs wrong bash so bash can say why."""

from __future__ import annotations

import pytest

from bashcoder.repl.check import classify, ends_in_continuation, is_meta


@pytest.mark.parametrize(
    "text",
    [
        "ls -la",
        "echo 'a b'",
        "for f in *; do echo $f; done",
        "if true; then\n  echo y\nfi",
        ": > f",
        "cat <<EOF\nx\nEOF",
    ],
)
def test_complete_bash_submits(text: str) -> None:
    assert classify(text).state == "complete"


@pytest.mark.parametrize(
    "text",
    [
        "if true; then",
        "for f in *; do",
        "while read -r line; do\n  echo $line",
        "case $x in",
        "f() {",
        "(",
        'echo "unclosed',
        "echo 'unclosed",
        "echo $(ls",
        "echo `ls",
        "ls |",
        "make &&",
        "false ||",
        "cat <<EOF",
        "cat <<EOF\nline",
        "echo a \\",
    ],
)
def test_open_constructs_continue(text: str) -> None:
    verdict = classify(text)
    assert verdict.state == "incomplete", verdict
    assert not verdict.submits


@pytest.mark.parametrize("text", ["fi", "done", "if true; then fi", "echo )", "while true; do :; done; done"])
def test_wrong_bash_is_an_error_not_a_continuation(text: str) -> None:
    verdict = classify(text)
    assert verdict.state == "error"
    assert "syntax error" in verdict.message
    assert verdict.submits


def test_meta_commands_and_empty_input() -> None:
    assert classify(":set temperature 0.5").state == "meta"
    assert classify("   ").state == "empty"
    assert is_meta(":quit") and is_meta("  :help ")
    assert not is_meta(": > file") and not is_meta(":") and not is_meta(":set\nls")


def test_backslashes() -> None:
    assert ends_in_continuation("echo a \\")
    assert not ends_in_continuation("echo a \\\\")
    assert ends_in_continuation("echo a \\\\\\")
    assert not ends_in_continuation("echo a  # comment ends \\")
    assert not ends_in_continuation("echo 'quoted \\'")


@pytest.mark.parametrize(
    "text",
    [
        "if true; then\n    cat <<EOF",
        "for f in a b; do\n  cat <<-EOF",
        "if true; then\n  cat <<EOF\nrm -rf build",
    ],
)
def test_a_here_document_inside_a_compound_command_continues(text: str) -> None:
    # bash -n warns of the open here-document first, then of the end of file: both mean "open".
    verdict = classify(text)
    assert verdict.state == "incomplete" and verdict.in_heredoc, verdict


def test_a_closed_here_document_in_an_open_block_continues_with_indent_again() -> None:
    verdict = classify("if true; then\n  cat <<EOF\nhi\nEOF")
    assert verdict.state == "incomplete" and not verdict.in_heredoc
    assert classify("if true; then\n  cat <<EOF\nhi\nEOF\nfi").state == "complete"
