"""Which model suggestions the terminal shows, decided with the real `bash -n`."""

from __future__ import annotations

import pytest

from bashcoder.repl.assistant import drop_broken_tail, offers_next_line


@pytest.mark.parametrize(
    ("before", "text", "shown"),
    [
        ("ls -la", "\nls", False),  # a finished command: the next one is not suggested
        ("git status", "\ngit add .", False),
        ("if [ -f foo ]; then", '\n  echo "foo"', True),  # an open block: its body is
        ("for f in *.txt; do", '\n  echo "$f"', True),
        ('while read -r line; do\n  echo "$line"', "\ndone", True),
        ("echo 'open quote", "\nstill quoted'", True),
        ("", "\necho hi", True),  # nothing typed on the line
        ("tar -x", "zf archive.tar.gz", True),  # the same line goes on
    ],
)
def test_a_new_line_is_suggested_only_inside_an_open_command(before: str, text: str, shown: bool) -> None:
    assert offers_next_line(before, text) is shown


@pytest.mark.parametrize(
    ("before", "text", "kept"),
    [
        ("for f in *.txt; do", ' echo "$f"; done; done; done', ' echo "$f"; done'),
        ("if true; then", " echo yes; fi; fi", " echo yes; fi"),
        ("for f in *.txt; do", ' echo "$f"; done', ' echo "$f"; done'),  # fine as it is
        ("for f in *.txt; do", ' echo "$f";', ' echo "$f";'),  # still open: fine too
        ("ls", " -la; )", " -la"),
        ("ls", " ) ) )", " ) ) )"),  # nothing to cut at: kept, bash will say why
    ],
)
def test_commands_that_break_the_line_are_cut_from_the_suggestions_end(
    before: str, text: str, kept: str
) -> None:
    assert drop_broken_tail(before, text) == kept
