"""The server's copy of a document follows the client's edits, and cursors cut it where the client points."""

from __future__ import annotations

import random

from bashcoder.server.documents import Documents
from bashcoder.server.positions import UTF8, Pos, apply_change, offset_at

URI = "file:///tmp/a.sh"


def test_edits_apply_in_order_and_track_the_version() -> None:
    docs = Documents()
    docs.open(URI, "echo hi\n", "shellscript", 1)
    docs.change(URI, [(Pos(0, 5), Pos(0, 7), "there"), (Pos(1, 0), Pos(1, 0), "ls\n")], version=2)
    doc = docs.get(URI)
    assert doc is not None and doc.text == "echo there\nls\n" and doc.version == 2
    docs.change(URI, ["pwd\n"], version=3)
    assert docs.get(URI).text == "pwd\n"  # type: ignore[union-attr]


def test_edits_use_the_negotiated_encoding() -> None:
    docs = Documents()
    docs.open(URI, "echo 'é'\n")
    # é is 2 bytes in UTF-8: the closing quote starts at byte 8.
    docs.change(URI, [(Pos(0, 8), Pos(0, 9), '"')], encoding=UTF8)
    assert docs.get(URI).text == "echo 'é\"\n"  # type: ignore[union-attr]


def test_unknown_and_closed_documents_have_no_cursor() -> None:
    docs = Documents()
    assert docs.cursor(URI, Pos(0, 0)) is None
    assert docs.change(URI, ["x"]) is None
    docs.open(URI, "echo\n")
    docs.close(URI)
    assert docs.get(URI) is None and len(docs) == 0


def test_a_cursor_splits_the_text_and_knows_the_word_being_typed() -> None:
    docs = Documents()
    docs.open(URI, "for f in *.tx\ndone\n", "sh")
    cursor = docs.cursor(URI, Pos(0, 13))
    assert cursor is not None
    assert (cursor.prefix, cursor.suffix, cursor.word) == ("for f in *.tx", "\ndone\n", "tx")
    assert docs.cursor(URI, Pos(5, 0)) is None


def test_shell_documents_by_language_id_or_shebang() -> None:
    docs = Documents()
    assert docs.open("file:///a.sh", "", "shellscript").is_shell
    assert docs.open("file:///a", "#!/usr/bin/env bash\n", "plaintext").is_shell
    assert not docs.open("file:///a.py", "print()\n", "python").is_shell


def test_lookups_near_the_last_one_agree_with_a_scan_from_the_top() -> None:
    """Documents start line lookups at the last cursor's line; the result must not depend on it."""
    rng = random.Random(6)
    pieces = ["echo a", "\n", "\r\n", "\r", "é", "\U0001f600", "  ", "done", "\n\n"]
    text = "".join(rng.choice(pieces) for _ in range(400))
    docs = Documents()
    doc = docs.open(URI, text)
    expected = text
    for _ in range(300):
        start = Pos(rng.randrange(0, 120), rng.randrange(0, 12))
        end = Pos(start.line + rng.choice([0, 0, 0, 1, 2]), rng.randrange(0, 12))
        new = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 3)))
        expected = apply_change(expected, start, end, new)
        docs.change(URI, [(start, end, new)])
        assert doc.text == expected
        probe = Pos(rng.randrange(0, 130), rng.randrange(0, 12))
        cursor = docs.cursor(URI, probe)
        offset = offset_at(expected, probe)
        assert (cursor is None) == (offset is None)
        if cursor is not None:
            assert cursor.prefix == expected[:offset]
