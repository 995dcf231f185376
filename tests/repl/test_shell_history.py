"""The shell's history file is read as the shell wrote it: bash plain and timestamped, zsh extended,
multi-line entries whole, space-prefixed entries skipped, bytes that are not UTF-8 kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from bashcoder.repl.config import ReplConfig, default_shell_history
from bashcoder.repl.rawtext import encode, for_model
from bashcoder.repl.recall import Recall
from bashcoder.repl.shellhistory import MAX_BYTES, parse_history, read_history


def test_bash_plain_history_is_one_command_a_line() -> None:
    data = b"git status\nls -la\n  \n echo secret-token\nmake test\n"
    assert parse_history(data) == ["git status", "ls -la", "make test"]  # ignorespace: ' echo ...' dropped


def test_bash_timestamped_history_keeps_multi_line_entries_whole() -> None:
    data = b"#1700000000\nls\n#1700000005\nfor f in *; do\n  echo $f\ndone\n#1700000009\ngit push\n"
    assert parse_history(data) == ["ls", "for f in *; do\n  echo $f\ndone", "git push"]


def test_zsh_extended_history_with_continued_lines() -> None:
    data = b": 1700000000:0;git status\n: 1700000003:2;if true; then\\\n  echo yes\\\nfi\n: 1700000009:0;ls\n"
    assert parse_history(data) == ["git status", "if true; then\n  echo yes\nfi", "ls"]


def test_zsh_metafied_bytes_are_restored() -> None:
    # zsh writes 0x83 then byte^32 for bytes 0x83-0x9d: "ś" is C5 9B, stored as C5 83 BB
    data = b": 1700000000:0;echo \xc5\x83\xbb\n"
    assert parse_history(data) == ["echo ś"]


def test_bytes_that_are_not_utf8_survive_and_are_safe_for_the_model() -> None:
    (entry,) = parse_history(b"echo caf\xe9\n")
    assert encode(entry) == b"echo caf\xe9"  # run or printed: the very bytes
    assert for_model(entry) == "echo caf\ufffd"  # the tokenizer gets valid text of the same length


def test_read_history_tail_of_a_huge_file_and_missing_files(tmp_path: Path) -> None:
    assert read_history(tmp_path / "missing") == []
    assert read_history(tmp_path) == []  # a directory: unreadable, not a crash
    big = tmp_path / "big_history"
    line = b"echo " + b"x" * 95 + b"\n"
    big.write_bytes(b"first-command\n" + line * (MAX_BYTES // len(line) + 10) + b"last-command\n")
    entries = read_history(big)
    assert entries[-1] == "last-command" and "first-command" not in entries
    assert all(e == "last-command" or e == line.decode().strip() for e in entries)  # no half line


def test_which_file_is_the_shell_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HISTFILE", str(tmp_path / "h"))
    assert ReplConfig().shell_history_path() == tmp_path / "h"
    monkeypatch.delenv("HISTFILE")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SHELL", "/bin/bash")
    assert ReplConfig().shell_history_path() == tmp_path / ".bash_history"
    assert ReplConfig(shell_history=tmp_path / "z").shell_history_path() == tmp_path / "z"


def test_without_histfile_the_login_shells_history_is_read(tmp_path: Path) -> None:
    # zsh and bash do not export HISTFILE: a zsh user's history must not be looked for in bash's file
    assert default_shell_history({"SHELL": "/bin/zsh"}, tmp_path) == tmp_path / ".zsh_history"
    (tmp_path / ".zhistory").write_text(": 1700000000:0;git status\n")
    assert default_shell_history({"SHELL": "/usr/local/bin/zsh"}, tmp_path) == tmp_path / ".zhistory"
    assert read_history(default_shell_history({"SHELL": "/bin/zsh"}, tmp_path)) == ["git status"]
    zdot = tmp_path / "zdot"
    assert (
        default_shell_history({"SHELL": "/bin/zsh", "ZDOTDIR": str(zdot)}, tmp_path) == zdot / ".zsh_history"
    )
    (tmp_path / ".zhistory").write_text("for f in *; do\\\necho $f\\\ndone\n")  # no EXTENDED_HISTORY
    assert read_history(tmp_path / ".zhistory") == ["for f in *; do\necho $f\ndone"]  # zsh's, not bash's
    fish = default_shell_history({"SHELL": "/usr/bin/fish"}, tmp_path)
    assert fish == tmp_path / ".local" / "share" / "fish" / "fish_history"
    xdg = default_shell_history({"SHELL": "/usr/bin/fish", "XDG_DATA_HOME": str(tmp_path / "d")}, tmp_path)
    assert xdg == tmp_path / "d" / "fish" / "fish_history"
    assert default_shell_history({"SHELL": "/bin/bash"}, tmp_path) == tmp_path / ".bash_history"
    assert default_shell_history({}, tmp_path) == tmp_path / ".bash_history"
    exported = {"SHELL": "/bin/zsh", "HISTFILE": str(tmp_path / "mine")}
    assert default_shell_history(exported, tmp_path) == tmp_path / "mine"


def test_recall_answers_with_the_newest_entry_that_starts_with_the_input() -> None:
    session = ["git commit -m 'two'"]
    recall = Recall(lambda: ["git commit -m 'one'", "git push", "git commit --amend"], lambda: session)
    assert recall.match("git comm") == "it -m 'two'"  # this session's entry is the newest
    assert recall.matches("git comm", 5) == ["it -m 'two'", "it --amend", "it -m 'one'"]
    assert recall.match("git push") is None  # nothing longer than the input
    assert recall.match("   ") is None and recall.match("docker") is None
    assert recall.recent(2) == ["git commit --amend", "git commit -m 'two'"]


def test_recall_reads_the_shell_file_once_and_only_when_asked() -> None:
    reads: list[int] = []

    def load() -> list[str]:
        reads.append(1)
        return ["ls"]

    recall = Recall(load)
    assert not recall.loaded and reads == []
    recall.match("l")
    recall.match("l")
    assert recall.loaded and reads == [1]


def test_fish_history_gives_its_commands_not_its_yaml(tmp_path: Path) -> None:
    # Passed with --shell-history, fish's file was read as bash lines: `- cmd: ls` went into the prompt.
    path = tmp_path / "fish_history"
    path.write_bytes(
        b'- cmd: git status\n  when: 1700000000\n- cmd: echo "a\\nb"\n  when: 1700000001\n'
        b"  paths:\n    - notes.txt\n- cmd: printf 'x\\\\y'\n  when: 1700000002\n"
    )
    assert read_history(path) == ["git status", 'echo "a\nb"', "printf 'x\\y'"]
