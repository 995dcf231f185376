"""How much of a suggestion each accept key takes, and the indentation of continuation lines."""

from __future__ import annotations

import pytest

from bashcoder.repl.keys import continuation_indent, next_line, next_word


@pytest.mark.parametrize(
    ("text", "word"),
    [
        (" -la /tmp", " -la"),
        ("la /tmp", "la"),
        (" /usr/local/bin", " /"),
        ("usr/local", "usr/"),
        ("\n    echo hi", "\n    echo"),
        ("   ", "   "),
    ],
)
def test_next_word(text: str, word: str) -> None:
    assert next_word(text) == word


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("ls -la\necho x", "ls -la"),
        ("\n  echo x\ndone", "\n  echo x"),
        ("single", "single"),
        ("\nlast", "\nlast"),
    ],
)
def test_next_line(text: str, line: str) -> None:
    assert next_line(text) == line


@pytest.mark.parametrize(
    ("line", "indent"),
    [
        ("if true; then", "    "),
        ("  for f in *; do", "      "),
        ("f() {", "    "),
        ("    echo hi", "    "),
        ("echo 'x' # then", ""),
        ("ls |", ""),
    ],
)
def test_continuation_indent(line: str, indent: str) -> None:
    assert continuation_indent(line) == indent
