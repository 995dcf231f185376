"""The REPL loop: meta commands, the destructive-command gate, running, history, exiting."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
from pathlib import Path

from prompt_toolkit.input import PipeInput, create_pipe_input
from repl_harness import CTRL_C, CTRL_D, ENTER, echoed, make_repl, until, work_dir

from bashcoder.repl.app import Repl
from bashcoder.repl.assistant import Assistant


async def say(inp: PipeInput, lines: list[tuple[str, str]], text: str, expect: str) -> None:
    """Type `text` + Enter and wait until `expect` has been echoed."""
    inp.send_text(text + ENTER)
    await until(lambda: expect in echoed(lines), repr(expect))


def test_meta_commands(assistant: Assistant, tmp_path: Path) -> None:
    async def scenario() -> tuple[Repl, list[tuple[str, str]]]:
        with create_pipe_input() as inp:
            repl, lines = make_repl(assistant, inp, tmp_path, suggest=False, execute=False)
            loop = asyncio.ensure_future(repl.run_async())
            await say(inp, lines, ":help", ":save FILE")
            assert "Ctrl-G" in echoed(lines) and "Alt-F" in echoed(lines)
            assert ":set suggest history,model" in echoed(lines) and ":set history off" in echoed(lines)
            assert "cannot see" in echoed(lines) and "base64 -d | sh" in echoed(lines)  # the gate's limits
            await say(inp, lines, ":set temperature 0.7", "temperature = 0.7")
            await say(inp, lines, ":set top_k 5", "top_k = 5")
            await say(inp, lines, ":set top_p 0.5", "top_p = 0.5")
            await say(inp, lines, ":set max_tokens 12", "max_tokens = 12")
            await say(inp, lines, ":set mode line", "mode = line")
            await say(inp, lines, ":set temperature hot", "temperature takes a number")
            await say(inp, lines, ":set", "menu_temperature = 0.8")
            await say(inp, lines, ":nonsense", "unknown command :nonsense; try :help")
            await say(inp, lines, "echo first", "(--no-exec: not run)")
            pasted = "\x1b[200~for x in a b; do\n  echo $x\ndone\x1b[201~"  # bracketed paste: kept verbatim
            await say(inp, lines, pasted, "(--no-exec: not run)")
            await say(inp, lines, ":save out.sh", "saved 2 command(s)")
            await say(inp, lines, ":history", ":save out.sh")
            await say(
                inp,
                lines,
                ":model /nonexistent/model",
                "error: model directory /nonexistent/model does not exist",
            )
            lines.clear()
            await say(inp, lines, ":clear", "")
            inp.send_text(":quit" + ENTER)
            await asyncio.wait_for(loop, 10)
            return repl, lines

    repl, lines = asyncio.run(scenario())
    s = assistant.settings
    assert (s.temperature, s.top_k, s.top_p, s.max_tokens, s.mode) == (0.7, 5, 0.5, 12, "line")
    assert repl.assistant.model_name == "micro"  # a model that fails to load leaves the current one
    script = work_dir(tmp_path) / "out.sh"
    assert script.read_text() == "#!/usr/bin/env bash\necho first\nfor x in a b; do\n  echo $x\ndone\n"
    assert script.stat().st_mode & stat.S_IXUSR
    assert subprocess.run([str(script)], capture_output=True, text=True, check=True).stdout == "first\na\nb\n"


def test_commands_run_in_the_shell_and_show_their_exit_status(
    assistant: Assistant, tmp_path: Path, capfd
) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> list[tuple[str, str]]:
        with create_pipe_input() as inp:
            repl, lines = make_repl(assistant, inp, tmp_path, suggest=False)
            loop = asyncio.ensure_future(repl.run_async())
            await say(inp, lines, "mkdir sub && cd sub && echo made > f.txt", "exit 0")
            await say(inp, lines, "cat f.txt; false", "exit 1")
            inp.send_text(CTRL_D)
            await asyncio.wait_for(loop, 10)
            return lines

    lines = asyncio.run(scenario())
    assert [text.split(" · ")[0] for text, _ in lines] == ["✓ exit 0", "✗ exit 1"]
    assert (work_dir(tmp_path) / "sub" / "f.txt").read_text() == "made\n"
    assert "made" in capfd.readouterr().out  # streamed straight to the terminal


def test_destructive_commands_need_an_explicit_yes(assistant: Assistant, tmp_path: Path) -> None:
    # A stand-in `mkfs.fake` the gate must flag (mkfs*) that only leaves a mark.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mark = tmp_path / "formatted"
    fake = bin_dir / "mkfs.fake"
    fake.write_text(f"#!/bin/sh\necho formatted >> {mark}\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}

    async def scenario() -> list[tuple[str, str]]:
        with create_pipe_input() as inp:
            repl, lines = make_repl(assistant, inp, tmp_path, suggest=False, env=env)
            loop = asyncio.ensure_future(repl.run_async())
            await say(inp, lines, "mkfs.fake /dev/sdz", "looks destructive")
            await say(inp, lines, "y", "not run.")
            assert not mark.exists()
            lines.clear()
            await say(inp, lines, "sudo mkfs.fake /dev/sdz", "formats a disk")
            inp.send_text(CTRL_C)
            await until(lambda: "not run." in echoed(lines), "the second refusal")
            assert not mark.exists()
            lines.clear()  # else the next wait is met by this warning, and `yes` is typed ahead of it
            await say(inp, lines, "mkfs.fake /dev/sdz", "looks destructive")
            lines.clear()
            await say(inp, lines, "yes", "exit 0")
            assert mark.read_text() == "formatted\n"
            inp.send_text(":quit" + ENTER)
            await asyncio.wait_for(loop, 10)
            return lines

    asyncio.run(scenario())


def test_no_exec_never_runs_anything(assistant: Assistant, tmp_path: Path) -> None:
    async def scenario() -> Repl:
        with create_pipe_input() as inp:
            repl, lines = make_repl(assistant, inp, tmp_path, suggest=False, execute=False)
            loop = asyncio.ensure_future(repl.run_async())
            await say(inp, lines, "touch should-not-exist", "not run")
            await say(inp, lines, "rm -rf ~/nothing-here && reboot", "not run")
            inp.send_text(CTRL_D)
            await asyncio.wait_for(loop, 10)
            return repl

    repl = asyncio.run(scenario())
    assert not (work_dir(tmp_path) / "should-not-exist").exists()
    assert repl.accepted == ["touch should-not-exist", "rm -rf ~/nothing-here && reboot"]


def test_history_persists_in_the_xdg_state_dir(
    assistant: Assistant, tmp_path: Path, _state_home: Path
) -> None:
    async def session(text: str) -> Repl:
        with create_pipe_input() as inp:
            repl, lines = make_repl(
                assistant, inp, tmp_path, suggest=False, execute=False, use_default_history=True
            )
            loop = asyncio.ensure_future(repl.run_async())
            await say(inp, lines, text, "not run")
            inp.send_text(CTRL_D)
            await asyncio.wait_for(loop, 10)
            return repl

    asyncio.run(session("echo from-the-first-session"))
    history_file = _state_home / "bashcoder" / "history"
    assert "echo from-the-first-session" in history_file.read_text()
    repl = asyncio.run(session("echo second"))
    assert list(repl.history.get_strings()) == ["echo from-the-first-session", "echo second"]  # type: ignore[union-attr]
    # the next prompt's context holds the recent commands
    repl._refresh_context()
    assert repl.assistant.context.endswith("echo from-the-first-session\necho second\n")


def test_exit_leaves_the_repl_as_in_a_shell(assistant: Assistant, tmp_path: Path) -> None:
    # Each input runs in its own bash, so `exit` ran there and the REPL went on; users mean leave.
    async def scenario() -> list[tuple[str, str]]:
        with create_pipe_input() as inp:
            repl, lines = make_repl(assistant, inp, tmp_path, suggest=False, execute=False)
            loop = asyncio.ensure_future(repl.run_async())
            await say(inp, lines, "echo before", "(--no-exec: not run)")
            inp.send_text("exit 3" + ENTER)
            await asyncio.wait_for(loop, 10)
            return lines

    lines = asyncio.run(scenario())
    assert echoed(lines).count("(--no-exec: not run)") == 1


def test_exit_gives_its_status_and_a_bare_exit_the_last_commands(
    assistant: Assistant, tmp_path: Path
) -> None:
    # `exit 3` in a shell leaves with 3, a bare `exit` with the last command's status (bash(1)).
    async def leave(commands: list[str], leaving: str) -> int:
        with create_pipe_input() as inp:
            repl, lines = make_repl(assistant, inp, tmp_path, suggest=False, execute=True)
            loop = asyncio.ensure_future(repl.run_async())
            for done, command in enumerate(commands, 1):
                inp.send_text(command + ENTER)
                await until(lambda done=done: echoed(lines).count(" exit ") == done, command)
            inp.send_text(leaving + ENTER)
            await asyncio.wait_for(loop, 10)
            return repl.exit_status

    assert asyncio.run(leave([], "exit 3")) == 3
    assert asyncio.run(leave([], "exit 300")) == 300 % 256
    assert asyncio.run(leave(["false"], "exit")) == 1
    assert asyncio.run(leave(["false", "true"], "logout")) == 0
    assert asyncio.run(leave(["(exit 7)"], "exit # done")) == 7
    assert asyncio.run(leave(["false"], "exit 0")) == 0


def test_only_a_bare_exit_or_logout_leaves(assistant: Assistant, tmp_path: Path) -> None:
    async def leaves(text: str) -> bool:
        with create_pipe_input() as inp:
            repl, _ = make_repl(assistant, inp, tmp_path, suggest=False, execute=False)
            return await repl.handle(text)

    for text in ("exit", "exit 3", "exit # bye", "logout", "  exit ;"):
        assert asyncio.run(leaves(text)), text
    for text in ("exit $?", "cd /tmp && exit", "echo exit", "cat <<EOF\nexit\nEOF"):
        assert not asyncio.run(leaves(text)), text


def test_an_answer_typed_before_the_warning_does_not_confirm_a_destructive_command(
    assistant: Assistant, tmp_path: Path
) -> None:
    # `mkfs /dev/sdb1⏎yes⏎` typed in one burst: the yes was read before the warning was shown.
    fake = tmp_path / "bin"
    fake.mkdir()
    marker = tmp_path / "mkfs-ran"
    (fake / "mkfs").write_text(f"#!/bin/sh\ntouch {marker}\n")
    (fake / "mkfs").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"}

    async def scenario() -> list[tuple[str, str]]:
        with create_pipe_input() as inp:
            repl, lines = make_repl(assistant, inp, tmp_path, suggest=False, env=env)
            loop = asyncio.ensure_future(repl.run_async())
            inp.send_text("mkfs /dev/sdb1" + ENTER + "yes" + ENTER)
            await until(lambda: "looks destructive" in echoed(lines), "the warning")
            await asyncio.sleep(0.3)
            assert "not run." not in echoed(lines) and not marker.exists()  # still asking
            inp.send_text("no" + ENTER)
            await until(lambda: "not run." in echoed(lines), "the refusal")
            inp.send_text(CTRL_D)
            await asyncio.wait_for(loop, 10)
            return lines

    asyncio.run(scenario())
    assert not marker.exists()


def test_a_history_file_that_cannot_be_used_is_one_warning_and_the_session_goes_on(
    assistant: Assistant, tmp_path: Path, _state_home: Path
) -> None:
    (_state_home / "bashcoder" / "history").mkdir(parents=True)  # a directory where the file goes

    async def scenario() -> tuple[Repl, list[tuple[str, str]]]:
        with create_pipe_input() as inp:
            repl, lines = make_repl(
                assistant, inp, tmp_path, suggest=False, execute=False, use_default_history=True
            )
            loop = asyncio.ensure_future(repl.run_async())
            await say(inp, lines, "echo one", "not run")
            await say(inp, lines, "echo two", "not run")
            inp.send_text(CTRL_D)
            await asyncio.wait_for(loop, 10)
            return repl, lines

    repl, lines = asyncio.run(scenario())
    warnings = [text for text, _ in lines if text.startswith("history: cannot use")]
    assert len(warnings) == 1 and "--history FILE" in warnings[0]
    assert list(repl.history.get_strings()) == ["echo one", "echo two"]  # type: ignore[union-attr]


def test_keys_typed_before_a_command_starts_are_shown_in_the_next_prompt_not_run(
    assistant: Assistant, tmp_path: Path
) -> None:
    # prompt_toolkit reads what follows Enter before the command takes the terminal, and replayed
    # it, Enter included, as the next command: an answer meant for `read` or `rm -i` ran unseen.
    marker = work_dir(tmp_path) / "ran"

    async def scenario() -> tuple[list[tuple[str, str]], str]:
        with create_pipe_input() as inp:
            repl, lines = make_repl(assistant, inp, tmp_path, suggest=False)
            loop = asyncio.ensure_future(repl.run_async())
            inp.send_text("true" + ENTER + f"touch {marker}" + ENTER)  # one burst, as a fast typist
            await until(lambda: "exit 0" in echoed(lines), "the first command")
            buf = repl.session.default_buffer
            await until(lambda: buf.text == f"touch {marker}", "the typed-ahead text in the prompt")
            await asyncio.sleep(0.3)
            shown = buf.text
            inp.send_text(CTRL_C + CTRL_D)
            await asyncio.wait_for(loop, 10)
            return lines, shown

    lines, shown = asyncio.run(scenario())
    assert shown == f"touch {marker}" and not marker.exists()
    assert [text.split(" · ")[0] for text, _ in lines] == ["✓ exit 0"]


def test_meta_command_mistakes_are_one_line_naming_the_fix(assistant: Assistant, tmp_path: Path) -> None:
    async def scenario() -> list[tuple[str, str]]:
        with create_pipe_input() as inp:
            repl, lines = make_repl(assistant, inp, tmp_path, suggest=False, execute=False)
            loop = asyncio.ensure_future(repl.run_async())
            await say(inp, lines, ":history -5", "N at least 1")
            await say(inp, lines, ":set 'x", "close the quote")
            inp.send_text(CTRL_D)
            await asyncio.wait_for(loop, 10)
            return lines

    errors = [text for text, style in asyncio.run(scenario()) if style == "error"]
    assert len(errors) == 2 and all(e.startswith("error: ") and "\n" not in e for e in errors)
