"""Commands run with bash in the REPL's directory and environment; cd and export carry over."""

from __future__ import annotations

from pathlib import Path

from bashcoder.repl.runner import Shell


def run(shell: Shell, command: str, tmp_path: Path) -> tuple[int, str]:
    out = tmp_path / "out.txt"
    with out.open("w") as fh:
        result = shell.run(command, stdout=fh, stderr=fh)
    return result.exit_code, out.read_text()


def test_output_and_exit_status(tmp_path: Path) -> None:
    shell = Shell(cwd=tmp_path)
    assert run(shell, "echo hello; exit 3", tmp_path) == (3, "hello\n")
    code, text = run(shell, "pwd", tmp_path)
    assert (code, text) == (0, f"{tmp_path}\n")


def test_cd_and_export_carry_over_like_a_shell(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    shell = Shell(cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "KEEP": "1"})
    assert run(shell, "cd sub && export GREETING=hi", tmp_path)[0] == 0
    assert shell.cwd == tmp_path / "sub"
    assert run(shell, 'echo "$GREETING $KEEP $PWD"', tmp_path) == (0, f"hi 1 {tmp_path / 'sub'}\n")
    assert run(shell, "unset KEEP; cd ..", tmp_path)[0] == 0
    assert "KEEP" not in shell.env and shell.cwd == tmp_path


def test_syntax_errors_keep_the_users_line_numbers(tmp_path: Path) -> None:
    code, text = run(Shell(cwd=tmp_path), "echo a\nif then\n", tmp_path)
    assert code == 2 and "line 2" in text


def test_describe_marks_success_and_failure() -> None:
    from bashcoder.repl.runner import RunResult

    assert RunResult(0, 0.012).describe() == "✓ exit 0 · 0.01 s"
    assert RunResult(130, 1.5).describe() == "✗ exit 130 · 1.50 s"
