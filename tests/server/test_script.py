"""`bashcoder.generate` writes below a comment line, and refuses other lines with a message that says why."""

from __future__ import annotations

import pytest

from bashcoder.server.script import insertion, script_spot


def test_the_body_goes_on_the_line_after_the_comment() -> None:
    text = "#!/bin/bash\n# back up ~/photos\necho done\n"
    spot = script_spot(text, 1)
    assert spot.prefix == "#!/bin/bash\n# back up ~/photos\n"
    assert spot.suffix == "echo done\n"
    assert spot.insert_at == len(spot.prefix)
    assert insertion(spot, "\nrsync -a ~/photos /mnt/backup") == "rsync -a ~/photos /mnt/backup\n"


def test_a_last_comment_line_without_a_break_gets_one() -> None:
    spot = script_spot("#!/bin/sh\n  # list big files", 1)
    assert spot.prefix.endswith("# list big files\n") and spot.suffix == ""
    assert insertion(spot, "du -ah . | sort -h") == "\ndu -ah . | sort -h\n"


def test_crlf_documents_insert_after_the_whole_break() -> None:
    spot = script_spot("# hi\r\necho\r\n", 0)
    assert spot.insert_at == 6 and spot.suffix == "echo\r\n"


def test_nothing_written_means_no_edit() -> None:
    assert insertion(script_spot("# x\n", 0), " \n\n") == ""


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("echo hi\n", 0, "not a `# comment`"),
        ("#!/bin/bash\n", 0, "not a `# comment`"),
        ("#\n", 0, "not a `# comment`"),
        ("# x\n", 5, "past the end"),
    ],
)
def test_other_lines_are_refused_with_the_fix(text: str, line: int, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        script_spot(text, line)
