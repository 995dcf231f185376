"""`bashcoder-repl` as a command: scripted without a terminal, one-line errors for missing or broken models."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bashcoder.cli.repl import main as command
from bashcoder.engine.generate import Generator
from bashcoder.repl.assistant import Assistant
from bashcoder.repl.config import Settings
from bashcoder.repl.scripted import complete_line

REPL = Path(sys.executable).parent / "bashcoder-repl"


def run_repl(args: list[str], stdin: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPL), *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def test_without_a_terminal_each_line_is_printed_with_its_completion(
    micro_model_dir: Path, tmp_path: Path
) -> None:
    lines = [
        "tar -c",
        "# Remove old archives beyond KEEP.",
        "",
        ":set max_tokens 8",
        "touch made-by-the-repl",
    ]
    proc = run_repl(
        ["--model", str(micro_model_dir), "--temperature", "0"], "\n".join(lines) + "\n", tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("tar -c")
    assert "\n# Remove old archives beyond KEEP.\n" in out
    assert out.rstrip("\n").splitlines()[-1].startswith("touch made-by-the-repl")
    assert "max_tokens = 8" in proc.stderr  # meta messages stay off stdout
    assert not (tmp_path / "made-by-the-repl").exists()  # scripted mode never runs anything


def test_scripted_lines_match_the_interactive_suggestions(assistant: Assistant) -> None:
    found = assistant.suggest("tar -c")
    assistant.ghost.forget()
    assert complete_line(assistant, "tar -c") == "tar -c" + (found.text if found else "")
    assert complete_line(assistant, "   ") == "   "


def test_ghost_text_keeps_the_time_budget_and_piped_lines_wait_for_whole_answers(
    micro_generator: Generator,
) -> None:
    whole = Assistant(micro_generator, Settings(temperature=0.0, time_budget_ms=0))
    # 1 ms is over before the prompt is read: the first few tokens only.
    hurried = Assistant(micro_generator, Settings(temperature=0.0, time_budget_ms=1))
    cut_short = 0
    for line in ("tar -c", "for f in ", "if [ -d ", "echo ", "find . -name ", "rm -rf "):
        full = whole.suggest(line)
        whole.ghost.forget()
        quick = hurried.suggest(line)
        hurried.ghost.forget()
        full_text, quick_text = (full.text if full else ""), (quick.text if quick else "")
        assert full_text.startswith(quick_text)
        cut_short += len(quick_text) < len(full_text)
        assert complete_line(hurried, line) == line + full_text  # piped input ignores the clock
        hurried.ghost.forget()
    assert cut_short, "the budget cut no suggestion short"


def test_a_missing_model_is_one_line_naming_the_flag(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import bashcoder.engine.loader as loader

    monkeypatch.delenv("BASHCODER_MODEL", raising=False)
    monkeypatch.setattr(loader, "SHIPPED_MODEL", tmp_path / "no-shipped-model")
    result = CliRunner().invoke(command, [], input="ls\n")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: no model found: pass --model DIR") and "bashcoder-train" in lines[0]


def test_a_broken_model_is_one_line_and_exit_1(micro_model_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(micro_model_dir, broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    proc = run_repl(["--model", str(broken)], "ls\n", tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: ")


def test_every_option_maps_onto_one_config_field() -> None:
    import dataclasses

    from bashcoder.repl.config import ReplConfig, Settings

    options = {p.name for p in command.params} - {"help"}
    renamed = {"no_exec": "execute", "no_suggest": "ghost_text", "no_history": "history"}
    fields = {f.name for f in dataclasses.fields(ReplConfig)} - {"settings"}
    fields |= {f.name for f in dataclasses.fields(Settings)}
    assert {renamed.get(o, o) for o in options} == fields
