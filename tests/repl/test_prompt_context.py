"""The model sees where the user is and what they just ran, the same text at every keystroke."""

from __future__ import annotations

from pathlib import Path

from bashcoder.repl.config import ReplConfig
from bashcoder.repl.context import build_context, list_files, snapshot


def test_context_names_the_directory_files_and_recent_commands() -> None:
    text = build_context("proj", ["Makefile", "src/"], ["git status", "make test"])
    assert text == "# in proj: Makefile src/\ngit status\nmake test\n"


def test_context_drops_huge_commands_and_overlong_file_lists() -> None:
    text = build_context("d", [f"file{i:03d}.txt" for i in range(200)], ["x" * 5000, "ls"])
    first, *rest = text.splitlines()
    assert len(first) <= 305 and first.endswith("...")
    assert rest == ["ls"]


def test_snapshot_lists_visible_files_sorted_with_directories_marked(tmp_path: Path) -> None:
    (tmp_path / "b.sh").write_text("")
    (tmp_path / "a").mkdir()
    (tmp_path / ".hidden").write_text("")
    assert list_files(tmp_path, 10) == ["a/", "b.sh"]
    assert list_files(tmp_path, 1) == ["a/"]
    text = snapshot(tmp_path, ["one", "two", "three"], max_files=10, max_commands=2)
    assert text == f"# in {tmp_path.name}: a/ b.sh\ntwo\nthree\n"
    assert snapshot(tmp_path / "missing", [], 10, 5) == "# in missing\n"


def test_by_default_the_model_sees_the_directory_but_not_its_file_names(tmp_path: Path) -> None:
    (tmp_path / "stress-tools").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    context = snapshot(tmp_path, ["ls"], ReplConfig.context_files, ReplConfig.context_commands)
    assert context == f"# in {tmp_path.name}\nls\n"
    assert "notes.txt" in snapshot(tmp_path, [], 40, 0)  # --context-files 40 turns the list on
