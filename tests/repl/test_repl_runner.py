"""Commands run with bash in the REPL's directory and environment; cd and export carry over."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

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


def test_a_syntax_error_quotes_the_users_line_and_nothing_of_the_repl(tmp_path: Path) -> None:
    # The REPL's exit trap once sat on the user's line and showed in every syntax error.
    code, text = run(Shell(cwd=tmp_path), "fi", tmp_path)
    assert code == 2 and "`fi'" in text
    assert "trap" not in text and "bashcoder" not in text.lower()


def test_the_users_own_bash_env_still_runs_and_stays_theirs(tmp_path: Path) -> None:
    rc = tmp_path / "env.sh"
    rc.write_text("export FROM_BASH_ENV=yes\n")
    shell = Shell(cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "BASH_ENV": str(rc)})
    assert run(shell, 'echo "$FROM_BASH_ENV"', tmp_path) == (0, "yes\n")
    assert shell.env["BASH_ENV"] == str(rc) and "BASHCODER_USER_BASH_ENV" not in shell.env


def test_scripts_the_command_runs_inherit_nothing_of_the_repl(tmp_path: Path) -> None:
    # A bash script started by the command would read BASH_ENV: the REPL's trap would run in it.
    shell = Shell(cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    child = "bash -c 'echo \"[${BASH_ENV-}][${BASHCODER_REPL_STATE-}]\"; cd /'"
    assert run(shell, child, tmp_path) == (0, "[][]\n")
    assert shell.cwd == tmp_path and "BASH_ENV" not in shell.env


def test_ctrl_c_reaches_the_command_and_not_the_repl(tmp_path: Path) -> None:
    # In the REPL an asyncio loop owns SIGINT: the signal the terminal sends to the whole
    # foreground group must end the command only, and the loop must go on to the next input.
    import asyncio
    import os
    import signal
    import threading

    pidfile = tmp_path / "pid"

    def ctrl_c() -> None:  # what the terminal does: SIGINT to the command and to the REPL
        while not pidfile.exists() or not pidfile.read_text().strip():
            threading.Event().wait(0.02)
        os.kill(int(pidfile.read_text()), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)

    async def main() -> tuple[int, str]:
        threading.Thread(target=ctrl_c, daemon=True).start()
        shell = Shell(cwd=tmp_path)
        command = f"trap 'kill $!; exit 130' INT; sleep 5 & echo $$ > {pidfile}; wait $!"
        code, _ = run(shell, command, tmp_path)
        await asyncio.sleep(0.05)  # the REPL reads its next input: it was not cancelled
        return code, run(shell, "echo still-here", tmp_path)[1]

    # A test run started in the background of a non-interactive shell (`make test &`) inherits
    # SIGINT ignored, and so would bash, which then cannot trap it: start from a terminal's state.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        assert asyncio.run(main()) == (130, "still-here\n")
    finally:
        signal.signal(signal.SIGINT, previous)


def test_cd_and_export_carry_over_in_posix_mode_too(tmp_path: Path) -> None:
    # POSIX-mode bash reads no BASH_ENV, so the startup file's trap never ran there.
    (tmp_path / "sub").mkdir()
    shell = Shell(cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "POSIXLY_CORRECT": "1"})
    assert run(shell, "cd sub && export GREETING=hi", tmp_path)[0] == 0
    assert shell.cwd == tmp_path / "sub" and shell.env["GREETING"] == "hi"


def test_a_bash_env_the_user_sets_is_kept_and_a_missing_one_is_quiet(tmp_path: Path) -> None:
    shell = Shell(cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "BASH_ENV": str(tmp_path / "gone.sh")})
    assert run(shell, "echo ok", tmp_path) == (0, "ok\n")  # bash ignores a missing BASH_ENV file
    rc = tmp_path / "rc.sh"
    rc.write_text("export FROM_RC=1\n")
    assert run(shell, f"export BASH_ENV={rc}", tmp_path)[0] == 0
    assert shell.env["BASH_ENV"] == str(rc)
    assert run(shell, 'echo "$FROM_RC"', tmp_path) == (0, "1\n")


def test_a_commands_own_exit_trap_runs_and_cd_and_export_still_carry_over(tmp_path: Path) -> None:
    # bash keeps one EXIT trap: the command's own used to replace the REPL's, losing its cd/export.
    (tmp_path / "sub").mkdir()
    shell = Shell(cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    command = "trap 'echo cleanup $?' EXIT; cd sub; export AFTER=1; false"
    assert run(shell, command, tmp_path) == (1, "cleanup 1\n")
    assert shell.cwd == tmp_path / "sub" and shell.env["AFTER"] == "1"
    # under set -e too, and with the status of an explicit exit
    assert run(shell, "set -e; trap 'echo e' EXIT; cd ..; false; echo not-reached", tmp_path) == (1, "e\n")
    assert shell.cwd == tmp_path
    assert run(shell, "trap 'echo bye' INT EXIT; cd sub; exit 4", tmp_path) == (4, "bye\n")
    assert shell.cwd == tmp_path / "sub"


def test_trap_still_behaves_as_the_builtin(tmp_path: Path) -> None:
    shell = Shell(cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    # a subshell's own EXIT trap runs when the subshell ends; a reset one never runs
    assert run(shell, "( trap 'echo sub' EXIT; true ); echo after", tmp_path) == (0, "sub\nafter\n")
    assert run(shell, "trap 'echo x' EXIT; trap - EXIT; echo reset", tmp_path) == (0, "reset\n")
    # listing shows the command's traps, not the REPL's
    code, text = run(shell, "trap 'echo t' TERM; trap 'echo e' EXIT; trap; trap -p EXIT", tmp_path)
    assert code == 0 and "SIGTERM" in text and text.count("EXIT") == 2 and "bashcoder" not in text
    # a bad signal is one error from `trap` (not from the REPL's startup file) and status 1
    code, text = run(shell, "trap 'echo' NOSUCHSIG; echo st=$?", tmp_path)
    assert text == "bash: trap: NOSUCHSIG: invalid signal specification\nst=1\n"
    # set -x shows the user's commands, not the REPL's wrapper
    code, text = run(shell, "set -x; trap 'echo t' EXIT; echo hi", tmp_path)
    assert text == "+ trap 'echo t' EXIT\n+ echo hi\nhi\nt\n"


@pytest.mark.parametrize(
    "command",
    [
        # RETURN and DEBUG traps set through the wrapper ran as it returned and before each of
        # its commands and of the REPL's EXIT trap: extra lines the user never asked for.
        "f(){ trap 'echo r' RETURN; echo in-f; }; f; echo after",
        "trap 'echo r' RETURN; g(){ :; }; g; echo after",
        "set -T; trap 'echo r' RETURN; g(){ :; }; g; echo after",
        "trap 'echo dbg' DEBUG; echo a; x=1; echo b",
        "trap 'echo dbg' DEBUG; trap - DEBUG; echo a",
        # listed as bash lists them, quotes included
        "trap 'echo r' RETURN; trap -p RETURN; trap 'echo d' DEBUG; trap",
        "trap 'echo \"it'\\''s\"' EXIT; trap -p EXIT; trap",
        "trap 'echo t' TERM; trap -p TERM; trap - TERM; trap",
    ],
)
def test_traps_run_and_list_exactly_as_in_plain_bash(tmp_path: Path, command: str) -> None:
    shell = Shell(cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    plain = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=tmp_path)
    assert run(shell, command, tmp_path) == (plain.returncode, plain.stdout + plain.stderr)


def test_an_exit_trap_set_in_the_users_bash_env_is_kept(tmp_path: Path) -> None:
    rc = tmp_path / "env.sh"
    rc.write_text("trap 'echo from-bash-env' EXIT\n")
    shell = Shell(cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "BASH_ENV": str(rc)})
    assert run(shell, "export KEPT=1", tmp_path) == (0, "from-bash-env\n")
    assert shell.env["KEPT"] == "1"


def test_an_exit_trap_that_exits_and_chained_traps_still_carry_cd_and_export(tmp_path: Path) -> None:
    # `trap 'rc=$?; ...; exit $rc' EXIT` ended bash before the report; the common trap_add helper
    # read the REPL's own trap through $(trap -p EXIT) and made bash recurse until it crashed.
    (tmp_path / "sub").mkdir()
    shell = Shell(cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    command = "trap 'rc=$?; echo clean; exit $rc' EXIT; cd sub; export FOO=kept"
    assert run(shell, command, tmp_path) == (0, "clean\n")
    assert shell.cwd == tmp_path / "sub" and shell.env["FOO"] == "kept"
    trap_add = (
        'trap_add() { local cmd=$1; shift; for s in "$@"; do trap -- "$(extract() { printf "%s\\n" "${3:-}"; }; '
        'eval "extract $(trap -p "$s")"; printf "%s\\n" "$cmd")" "$s"; done; }; '
    )
    command = trap_add + "trap_add 'echo one' EXIT; trap_add 'echo two' EXIT; cd .."
    assert run(shell, command, tmp_path) == (0, "one\ntwo\n")
    assert shell.cwd == tmp_path
    # $(trap -p) in a command substitution lists the command's own trap, never the REPL's
    code, text = run(shell, "trap 'echo mine' EXIT; echo \"[$(trap -p EXIT)]\"", tmp_path)
    assert code == 0 and "mine" in text.splitlines()[0] and "bashcoder" not in text
