"""The prompt itself, driven key by key: ghost text, accept keys, the Tab menu, Enter, Ctrl-G."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from repl_harness import (
    ALT_ENTER,
    ALT_F,
    ALT_L,
    CTRL_C,
    CTRL_E,
    CTRL_F,
    CTRL_G,
    CTRL_RIGHT,
    END,
    ENTER,
    RIGHT,
    TAB,
    make_repl,
    prefix_with_suggestion,
    until,
)

from bashcoder.repl.assistant import Assistant
from bashcoder.repl.ghost import tail_lines
from bashcoder.repl.keys import next_word
from bashcoder.repl.suggest import GhostSuggestion, full_text


@pytest.mark.parametrize("key", [RIGHT, END, CTRL_E, CTRL_F], ids=["right", "end", "ctrl-e", "ctrl-f"])
def test_ghost_text_appears_and_each_accept_all_key_takes_it(
    assistant: Assistant, tmp_path: Path, key: str
) -> None:
    prefix, expected = prefix_with_suggestion(assistant, tmp_path)

    async def scenario() -> None:
        with create_pipe_input() as inp:
            repl, _ = make_repl(assistant, inp, tmp_path)
            buf = repl.session.default_buffer
            task = asyncio.ensure_future(repl.read())
            inp.send_text(prefix)
            await until(lambda: buf.suggestion is not None, "ghost text")
            assert full_text(buf.suggestion) == expected  # type: ignore[arg-type]
            assert assistant.last_latency is not None and assistant.last_latency.ms > 0
            inp.send_text(key)
            await until(lambda: buf.text == prefix + expected, "the suggestion to be accepted")
            repl.session.app.exit(result=buf.text)
            assert await task == prefix + expected

    asyncio.run(scenario())


def test_alt_f_accepts_one_word_and_keeps_the_rest(assistant: Assistant, tmp_path: Path) -> None:
    prefix, expected = prefix_with_suggestion(assistant, tmp_path)
    word = next_word(expected)
    assert word != expected

    async def scenario() -> None:
        with create_pipe_input() as inp:
            repl, _ = make_repl(assistant, inp, tmp_path)
            buf = repl.session.default_buffer
            task = asyncio.ensure_future(repl.read())
            inp.send_text(prefix)
            await until(lambda: buf.suggestion is not None, "ghost text")
            inp.send_text(ALT_F)
            await until(lambda: buf.text == prefix + word, "one word accepted")
            assert buf.suggestion is not None and full_text(buf.suggestion) == expected[len(word) :]
            repl.session.app.exit(result="")
            await task

    asyncio.run(scenario())


@pytest.mark.parametrize("key", [CTRL_RIGHT, ALT_L], ids=["ctrl-right", "alt-l"])
def test_the_line_key_accepts_one_line_of_a_block_suggestion(
    assistant: Assistant, tmp_path: Path, key: str
) -> None:
    block = ' *.log; do\n    gzip "$f"\ndone'

    async def scenario() -> None:
        with create_pipe_input() as inp:
            repl, _ = make_repl(assistant, inp, tmp_path, suggest=False)
            buf = repl.session.default_buffer
            task = asyncio.ensure_future(repl.read())
            inp.send_text("for f in")
            await until(lambda: buf.text == "for f in", "typing")
            buf.suggestion = GhostSuggestion.of(block)
            inp.send_text(key)
            await until(lambda: buf.text == "for f in *.log; do", "the first line")
            assert full_text(buf.suggestion) == '\n    gzip "$f"\ndone'  # type: ignore[arg-type]
            inp.send_text(key)
            await until(lambda: buf.text == 'for f in *.log; do\n    gzip "$f"', "the second line")
            inp.send_text(RIGHT)
            await until(lambda: buf.text == "for f in" + block, "the rest")
            assert buf.suggestion is None
            repl.session.app.exit(result="")
            await task

    asyncio.run(scenario())


def test_the_suggestion_survives_typing_what_it_begins_with(assistant: Assistant, tmp_path: Path) -> None:
    prefix, expected = prefix_with_suggestion(assistant, tmp_path)

    async def scenario() -> None:
        with create_pipe_input() as inp:
            repl, _ = make_repl(assistant, inp, tmp_path)
            buf = repl.session.default_buffer
            task = asyncio.ensure_future(repl.read())
            inp.send_text(prefix)
            await until(lambda: buf.suggestion is not None, "ghost text")
            for n in (1, 2):
                inp.send_text(expected[n - 1])
                await until(lambda n=n: buf.text == prefix + expected[:n], "the typed character")
                # kept in the same keystroke: never a frame without ghost text
                assert buf.suggestion is not None and full_text(buf.suggestion) == expected[n:]
            assert repl.keeper.kept == 2
            inp.send_text("\x7f" + "#")  # backspace, then something else: the model is asked again
            await until(lambda: buf.text == prefix + expected[0] + "#", "an unrelated edit")
            assert buf.suggestion is None or full_text(buf.suggestion) != expected[2:]
            repl.session.app.exit(result="")
            await task

    asyncio.run(scenario())


def test_tab_opens_a_menu_of_candidates_with_syntax_marks(assistant: Assistant, tmp_path: Path) -> None:
    prefix, _ = prefix_with_suggestion(assistant, tmp_path)
    assistant.settings = assistant.settings.updated("candidates", "4")

    async def scenario() -> None:
        with create_pipe_input() as inp:
            repl, _ = make_repl(assistant, inp, tmp_path, suggest=False)
            buf = repl.session.default_buffer
            task = asyncio.ensure_future(repl.read())
            inp.send_text(prefix + TAB)
            await until(lambda: buf.complete_state is not None and buf.complete_state.completions, "the menu")
            state = buf.complete_state
            assert state is not None
            shown = [c.display_text for c in state.completions]
            assert 1 <= len(shown) <= 4
            assert all(s[0] in "✓✗·" for s in shown), shown
            metas = [c.display_meta_text for c in state.completions]
            assert all(m.startswith(("model · parses", "model · syntax error")) for m in metas), metas
            ok_first = [s[0] == "✓" for s in shown]
            assert ok_first == sorted(ok_first, reverse=True)  # parseable candidates first
            first = state.completions[0].text
            inp.send_text(TAB)
            await until(lambda: buf.text == prefix + first, "the first candidate")
            inp.send_text(ENTER)  # takes the candidate, does not run it
            await until(lambda: buf.complete_state is None, "the menu to close")
            assert buf.text == prefix + first and not task.done()
            repl.session.app.exit(result="")
            await task

    asyncio.run(scenario())


def test_enter_continues_open_bash_and_runs_complete_bash(assistant: Assistant, tmp_path: Path) -> None:
    async def scenario() -> None:
        with create_pipe_input() as inp:
            repl, _ = make_repl(assistant, inp, tmp_path, suggest=False)
            buf = repl.session.default_buffer
            task = asyncio.ensure_future(repl.read())
            inp.send_text("if true; then" + ENTER)
            await until(lambda: buf.text == "if true; then\n    ", "a continuation line")
            inp.send_text('echo "two' + ENTER)
            await until(lambda: buf.text == 'if true; then\n    echo "two\n    ', "continuation in a quote")
            inp.send_text('"' + ENTER + "fi" + ENTER)
            assert await task == 'if true; then\n    echo "two\n    "\n    fi'

            task = asyncio.ensure_future(repl.read())
            inp.send_text("echo a" + ALT_ENTER)
            await until(lambda: buf.text == "echo a\n", "Alt-Enter's newline")
            inp.send_text("echo b" + ENTER)
            assert await task == "echo a\necho b"

            task = asyncio.ensure_future(repl.read())
            inp.send_text("fi" + ENTER)  # wrong, not open: runs so bash can say why
            assert await task == "fi"

    asyncio.run(scenario())


def test_ctrl_g_writes_a_block_under_the_comment(assistant: Assistant, tmp_path: Path) -> None:
    comment = "# Remove old archives beyond KEEP."

    async def scenario() -> None:
        with create_pipe_input() as inp:
            repl, _ = make_repl(assistant, inp, tmp_path, suggest=False)
            buf = repl.session.default_buffer
            seen: list[str] = []
            buf.on_text_changed += lambda b: seen.append(b.text)
            task = asyncio.ensure_future(repl.read())
            inp.send_text(comment + CTRL_G)
            await until(lambda: repl.blockgen.running, "the generation to start")
            await until(lambda: not repl.blockgen.running, "the generation to end")
            assert buf.text.startswith(comment + "\n")
            block = buf.text[len(comment) + 1 :]
            assert block.strip(), repl.notice.text
            streamed = [t for t in seen if t.startswith(comment + "\n")]
            assert len(streamed) > 2  # written piece by piece, not at once
            assert not task.done()  # editable: nothing ran
            repl.session.app.exit(result="")
            await task

    asyncio.run(scenario())


def test_ctrl_c_cancels_a_generation_and_restores_the_input(assistant: Assistant, tmp_path: Path) -> None:
    assistant.settings = assistant.settings.updated("block_tokens", "1024")

    async def scenario() -> None:
        with create_pipe_input() as inp:
            repl, _ = make_repl(assistant, inp, tmp_path, suggest=False)
            buf = repl.session.default_buffer
            task = asyncio.ensure_future(repl.read())
            inp.send_text("# list files" + CTRL_G + CTRL_C)
            await until(lambda: repl.blockgen.task is not None and repl.blockgen.task.done(), "the cancel")
            assert buf.text == "# list files"
            assert not task.done()  # Ctrl-C went to the generation, not the prompt
            inp.send_text(CTRL_C)  # now it clears the input, like a shell
            assert await task == ""

    asyncio.run(scenario())


def test_ctrl_g_without_a_comment_says_what_to_do(assistant: Assistant, tmp_path: Path) -> None:
    async def scenario() -> None:
        with create_pipe_input() as inp:
            repl, _ = make_repl(assistant, inp, tmp_path, suggest=False)
            task = asyncio.ensure_future(repl.read())
            inp.send_text("ls" + CTRL_G)
            await until(lambda: repl.notice.text, "a notice")
            assert "# what it should do" in repl.notice.text
            assert repl.session.default_buffer.text == "ls"
            repl.session.app.exit(result="")
            await task

    asyncio.run(scenario())


def test_a_block_suggestion_shows_its_further_lines_below_the_input(
    assistant: Assistant, tmp_path: Path
) -> None:
    async def scenario() -> None:
        with create_pipe_input() as inp:
            repl, _ = make_repl(assistant, inp, tmp_path, suggest=False)
            buf = repl.session.default_buffer
            task = asyncio.ensure_future(repl.read())
            inp.send_text("for f in *; do")
            await until(lambda: buf.text == "for f in *; do", "typing")
            buf.suggestion = GhostSuggestion.of("\n    echo $f\ndone")
            assert buf.suggestion.text == ""
            assert tail_lines(buf) == ["    echo $f", "done"]
            tail = repl.ghost_tail
            children = repl.session.layout.container.children  # type: ignore[attr-defined]
            assert children.index(tail) == 1  # right after the input, before the toolbars
            assert tail.filter()
            # With a bottom toolbar the input takes every row down to it unless it keeps to its own
            # lines while a tail shows: then the tail sits under the input, not at the screen's foot.
            window = repl.session.layout.current_window
            assert window.content.buffer is buf and window.dont_extend_height()
            assert children[2].filter()  # the rows left over go below the tail
            control = tail.content.content  # type: ignore[attr-defined]
            assert control.text() == [("class:ghost-tail", "      echo $f\n  done")]  # under the input's text
            buf.cursor_position = 0
            assert tail_lines(buf) == []  # only at the end of the input, where it would be inserted
            assert not window.dont_extend_height() and not children[2].filter()
            repl.session.app.exit(result="")
            await task

    asyncio.run(scenario())
