"""History first, then the model: ghost text, the toolbar, the Tab menu and the model's prompt draw on the
shell's history file and this session, as `--suggest`, `:set suggest` and `:set history` say."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from repl_harness import ENTER, RIGHT, TAB, echoed, make_repl, until

from bashcoder.engine.errors import BashcoderError
from bashcoder.repl.assistant import Assistant
from bashcoder.repl.config import Settings
from bashcoder.repl.recall import Recall
from bashcoder.repl.sources import first_suggestion, menu_rows
from bashcoder.repl.suggest import GhostSuggestion, full_text

ENTRY = "docker compose up -d --build"


def shell_history(tmp_path: Path, *entries: str) -> Path:
    path = tmp_path / "bash_history"
    path.write_text("".join(e + "\n" for e in entries))
    return path


def toolbar_text(repl) -> str:  # type: ignore[no-untyped-def]
    return "".join(text for _, text in repl._toolbar())


def test_the_newest_matching_history_entry_is_ghost_text_at_once_without_the_model(
    assistant: Assistant, tmp_path: Path
) -> None:
    history = shell_history(tmp_path, "docker compose down", ENTRY, "ls")

    async def scenario() -> None:
        with create_pipe_input() as inp:
            repl, _ = make_repl(assistant, inp, tmp_path, shell_history=history)
            buf = repl.session.default_buffer
            task = asyncio.ensure_future(repl.read())
            inp.send_text("docker comp")
            await until(lambda: buf.text == "docker comp" and buf.suggestion is not None, "ghost text")
            assert full_text(buf.suggestion) == "ose up -d --build"  # type: ignore[arg-type]
            assert isinstance(buf.suggestion, GhostSuggestion) and buf.suggestion.source == "history"
            assert "from history" in toolbar_text(repl)
            assert assistant.last_latency is None  # the model was never asked
            inp.send_text(RIGHT)
            await until(lambda: buf.text == ENTRY, "the entry accepted")
            inp.send_text(ENTER)
            assert await task == ENTRY

    asyncio.run(scenario())


def test_set_suggest_and_set_history_change_the_source_live(assistant: Assistant, tmp_path: Path) -> None:
    history = shell_history(tmp_path, ENTRY)

    async def ghost_for(inp, repl, text: str) -> GhostSuggestion | None:  # type: ignore[no-untyped-def]
        buf = repl.session.default_buffer
        assistant.last_latency = None
        inp.send_text(text)
        await until(
            lambda: buf.text == text and (buf.suggestion is not None or assistant.last_latency is not None),
            "an answer",
        )
        await asyncio.sleep(0.2)  # let a model answer that is on its way land
        shown = buf.suggestion
        inp.send_text("\x15")  # Ctrl-U: clear the line
        await until(lambda: buf.text == "", "a clear line")
        return shown if isinstance(shown, GhostSuggestion) else None

    async def scenario() -> None:
        with create_pipe_input() as inp:
            repl, lines = make_repl(assistant, inp, tmp_path, execute=False, shell_history=history)
            loop = asyncio.ensure_future(repl.run_async())
            first = await ghost_for(inp, repl, "docker comp")
            assert first is not None and first.source == "history"

            inp.send_text(":set suggest model" + ENTER)
            await until(lambda: "suggest = model" in echoed(lines), ":set suggest")
            shown = await ghost_for(inp, repl, "docker comp")
            assert assistant.last_latency is not None  # the model answered, history was not asked
            assert shown is None or shown.source == "model"

            inp.send_text(":set suggest history,model" + ENTER + ":set history off" + ENTER)
            await until(lambda: "history = False" in echoed(lines), ":set history off")
            shown = await ghost_for(inp, repl, "docker comp")
            assert shown is None or shown.source == "model"
            assert "history off" in toolbar_text(repl)

            inp.send_text(":set history maybe" + ENTER)
            await until(lambda: "history is on or off" in echoed(lines), "the fix for a bad value")
            inp.send_text(":quit" + ENTER)
            await asyncio.wait_for(loop, 30)

    asyncio.run(scenario())


def test_no_history_never_reads_the_file_and_keeps_it_out_of_the_prompt(
    assistant: Assistant, tmp_path: Path
) -> None:
    history = shell_history(tmp_path, "git add -A")
    assistant.settings = assistant.settings.updated("history", "off")  # as --no-history starts it

    async def scenario() -> None:
        with create_pipe_input() as inp:
            repl, _ = make_repl(assistant, inp, tmp_path, execute=False, shell_history=history)
            task = asyncio.ensure_future(repl.read())
            inp.send_text("git a")
            await until(lambda: assistant.last_latency is not None, "the model's answer")
            assert "git add -A" not in assistant.context
            assert not repl.recall.loaded  # the shell's file was never opened
            repl.session.app.exit(result="")
            await task

    asyncio.run(scenario())


def test_the_models_prompt_carries_the_last_history_commands(assistant: Assistant, tmp_path: Path) -> None:
    history = shell_history(tmp_path, "cd project", "make", "git add -A")

    async def scenario() -> None:
        with create_pipe_input() as inp:
            repl, _ = make_repl(assistant, inp, tmp_path, execute=False, shell_history=history)
            repl._refresh_context()
            assert assistant.context.endswith("cd project\nmake\ngit add -A\n")
            assistant.settings = assistant.settings.updated("history", "off")
            repl.accepted.append("echo this-session")
            repl._refresh_context()
            assert "git add -A" not in assistant.context
            assert assistant.context.endswith("echo this-session\n")

    asyncio.run(scenario())


def test_tab_shows_history_matches_and_model_candidates_each_marked(
    assistant: Assistant, tmp_path: Path
) -> None:
    history = shell_history(tmp_path, "tar -xzf archive.tar.gz", "tar -czf backup.tar.gz src/")

    async def scenario() -> None:
        with create_pipe_input() as inp:
            repl, _ = make_repl(assistant, inp, tmp_path, suggest=False, shell_history=history)
            buf = repl.session.default_buffer
            task = asyncio.ensure_future(repl.read())
            inp.send_text("tar -" + TAB)
            await until(lambda: buf.complete_state is not None and buf.complete_state.completions, "the menu")
            state = buf.complete_state
            assert state is not None
            rows = [(c.display_text, c.display_meta_text) for c in state.completions]
            assert rows[:2] == [("↑ czf backup.tar.gz src/", "history"), ("↑ xzf archive.tar.gz", "history")]
            model_rows = rows[2:]
            assert model_rows, "the model added no candidates"
            assert all(shown[0] in "✓✗" and meta.startswith("model · ") for shown, meta in model_rows)
            inp.send_text(TAB)
            await until(lambda: buf.text == "tar -czf backup.tar.gz src/", "the history row taken")
            repl.session.app.exit(result="")
            await task

    asyncio.run(scenario())


def test_strategies_ask_their_sources_in_order(assistant: Assistant) -> None:
    recall = Recall(lambda: ["git status --short"])
    s = assistant.settings
    assistant.settings = s.updated("suggest", "history")
    assert first_suggestion(assistant, recall, "git st").text == "atus --short"  # type: ignore[union-attr]
    assert first_suggestion(assistant, recall, "tar -c") is None and assistant.last_latency is None
    assert first_suggestion(assistant, recall, "git st", after=" x") is None  # history completes at the end

    assistant.settings = s.updated("suggest", "model,history")
    found = first_suggestion(assistant, recall, "git st")
    assert assistant.last_latency is not None  # asked first
    assert found is None or found.source == "model" or found.text == "atus --short"

    assistant.settings = s.updated("suggest", "history,model")
    rows = menu_rows(assistant, recall, "git st")
    assert rows[0].source == "history" and rows[0].text == "atus --short"
    assert len({r.text for r in rows}) == len(rows)  # nothing twice


def test_suggest_takes_only_known_strategies() -> None:
    assert Settings().strategy == ("history", "model")
    assert Settings().updated("suggest", "model").strategy == ("model",)
    with pytest.raises(BashcoderError, match="history,model"):
        Settings().updated("suggest", "fish")
    assert Settings().updated("history", "off").history is False


def test_a_missing_shell_history_or_one_with_no_history_is_refused_in_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bashcoder.cli.repl import main

    missing = CliRunner().invoke(main, ["--no-exec", "--shell-history", str(tmp_path / "none")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    history = shell_history(tmp_path, "ls -la")
    both = CliRunner().invoke(main, ["--no-exec", "--no-history", "--shell-history", str(history)])
    assert both.exit_code == 1
    assert both.output.strip().splitlines() == [
        f"error: --no-history and --shell-history {history} ask for opposite things; choose one."
    ]


def test_a_meta_command_is_completed_from_the_repls_own_table_not_by_the_model(
    assistant: Assistant, tmp_path: Path
) -> None:
    # The model knows bash: after `:se` it once offered `:sexit`, and Tab gave bash candidates.
    async def scenario() -> None:
        with create_pipe_input() as inp:
            repl, _ = make_repl(assistant, inp, tmp_path)
            buf = repl.session.default_buffer
            task = asyncio.ensure_future(repl.read())
            inp.send_text(":se")
            await until(lambda: buf.text == ":se" and buf.suggestion is not None, "ghost text")
            assert full_text(buf.suggestion) == "t "  # type: ignore[arg-type]
            inp.send_text(RIGHT + "temp")
            await until(lambda: buf.text == ":set temp" and buf.suggestion is not None, "the setting's name")
            assert full_text(buf.suggestion) == "erature "  # type: ignore[arg-type]
            assert assistant.last_latency is None  # the model was never asked
            inp.send_text(TAB)
            await asyncio.sleep(0.3)
            assert buf.complete_state is None or not buf.complete_state.completions
            repl.session.app.exit(result="")
            await task

    asyncio.run(scenario())


def test_a_here_document_typed_inside_a_block_is_read_whole_before_it_runs(
    assistant: Assistant, tmp_path: Path
) -> None:
    # Enter after `cat <<EOF` inside `if` ran the half-typed input, then each body line as a command;
    # and the auto-indented `    EOF` could never close the here-document.
    async def scenario() -> str:
        with create_pipe_input() as inp:
            repl, _ = make_repl(assistant, inp, tmp_path, suggest=False, execute=False)
            buf = repl.session.default_buffer
            task = asyncio.ensure_future(repl.read())
            for line in ("if true; then", "cat <<EOF", "rm -rf build", "EOF"):
                inp.send_text(line)
                await until(lambda line=line: buf.text.endswith(line), repr(line))
                inp.send_text(ENTER)
                await until(lambda: buf.text.endswith("\n") or buf.text.endswith(" "), "a new line")
                assert not task.done(), f"submitted after {line!r}: {buf.text!r}"
            inp.send_text("fi" + ENTER)
            return await asyncio.wait_for(task, 10)

    text = asyncio.run(scenario())
    assert text == "if true; then\n    cat <<EOF\nrm -rf build\nEOF\nfi"


def test_an_escape_sequence_typed_without_bracketed_paste_is_ignored_and_loses_no_key(
    assistant: Assistant, tmp_path: Path
) -> None:
    # `ESC[31m` parses as a mouse report; prompt_toolkit's handler raised on it and ate the next key.
    async def scenario() -> str:
        with create_pipe_input() as inp:
            repl, _ = make_repl(assistant, inp, tmp_path, suggest=False, execute=False)
            buf = repl.session.default_buffer
            task = asyncio.ensure_future(repl.read())
            inp.send_text("echo a\x1b[31mb")
            await until(lambda: buf.text.endswith("b"), "the key after the sequence")
            inp.send_text(ENTER)
            return await asyncio.wait_for(task, 10)

    assert asyncio.run(scenario()) == "echo ab"
