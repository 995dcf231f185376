"""Input that is not valid UTF-8 is completed or passed through, never a crash: piped lines, keystrokes,
file names in the prompt's context, history entries; bash gets the very bytes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from prompt_toolkit.input import create_pipe_input
from repl_harness import CTRL_C, CTRL_G, ENTER, TAB, echoed, make_repl, until, work_dir

from bashcoder.repl.assistant import Assistant
from bashcoder.repl.recall import Recall
from bashcoder.repl.sources import first_suggestion

REPL = Path(sys.executable).parent / "bashcoder-repl"
LATIN1 = "caf\udce9"  # b"caf\xe9" as Python reads it (surrogateescape)


def test_piped_latin1_lines_are_completed_and_printed_byte_for_byte(
    micro_model_dir: Path, tmp_path: Path
) -> None:
    proc = subprocess.run(
        [str(REPL), "--no-exec", "--model", str(micro_model_dir), "--temperature", "0"],
        input=b"echo caf\xe9\n# list caf\xe9 files\n\xff\xfe\n",
        capture_output=True,
        cwd=tmp_path,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert b"Traceback" not in proc.stderr
    out = proc.stdout.split(b"\n")
    assert out[0].startswith(b"echo caf\xe9")  # the byte passes through as it came
    assert b"# list caf\xe9 files" in out
    assert any(line.startswith(b"\xff\xfe") for line in out)


def test_every_request_to_the_model_accepts_undecodable_text(assistant: Assistant) -> None:
    assistant.context = f"# in {LATIN1}: {LATIN1}.txt\n"
    assistant.suggest(f"echo {LATIN1} ", f" {LATIN1}")  # each answers (or not) without raising
    assistant.candidates(f"cat {LATIN1}")
    assistant.generate_block(f"# copy {LATIN1}\n")
    recall = Recall(lambda: [f"echo {LATIN1} done"])
    found = first_suggestion(assistant, recall, "echo ")
    assert found is not None and found.text == f"{LATIN1} done"  # history keeps the bytes


def test_typed_latin1_bytes_get_suggestions_run_and_save_as_typed(
    assistant: Assistant, tmp_path: Path, capfdbinary
) -> None:  # type: ignore[no-untyped-def]
    work = work_dir(tmp_path)
    os.mkdir(os.path.join(os.fsencode(work), b"dir-caf\xe9"))  # listed with --context-files (off by default)
    history = tmp_path / "bash_history"
    history.write_bytes(b"printf '%s\\n' caf\xe9-from-history\n")

    async def scenario() -> None:
        with create_pipe_input() as inp:
            repl, lines = make_repl(assistant, inp, tmp_path, shell_history=history, context_files=40)
            loop = asyncio.ensure_future(repl.run_async())
            buf = repl.session.default_buffer
            await until(lambda: repl.session.app.is_running, "the prompt")
            assert "dir-caf\udce9/" in assistant.context
            inp.send_bytes(b"echo caf\xe9 ")
            await until(lambda: buf.text == f"echo {LATIN1} ", "the typed bytes")
            await until(lambda: assistant.last_latency is not None, "the model's answer")  # no crash
            inp.send_text(TAB)
            await until(lambda: buf.complete_state is not None or repl.notice.text, "the menu")
            inp.send_text(CTRL_C)  # abandon the line, as in a shell
            await until(lambda: buf.text == "" and repl.session.app.is_running, "a new prompt")
            inp.send_text("printf")
            await until(lambda: buf.text == "printf" and buf.suggestion is not None, "the history suggestion")
            assert buf.suggestion.text == f" '%s\\n' {LATIN1}-from-history"  # type: ignore[union-attr]
            inp.send_text(CTRL_C)
            await until(lambda: buf.text == "" and repl.session.app.is_running, "a new prompt")
            inp.send_bytes(b"echo caf\xe9-ran")
            inp.send_text(ENTER)
            await until(lambda: "exit 0" in echoed(lines), "the command to run")
            inp.send_bytes(b"# caf\xe9 ")
            inp.send_text(CTRL_G)
            await until(lambda: repl.blockgen.task is not None and repl.blockgen.task.done(), "Ctrl-G")
            assert "generation failed" not in repl.notice.text
            inp.send_text(CTRL_C)
            await until(lambda: buf.text == "" and repl.session.app.is_running, "a new prompt")
            inp.send_text(":save out.sh" + ENTER)
            await until(lambda: "saved" in echoed(lines), ":save")
            inp.send_text(":quit" + ENTER)
            await asyncio.wait_for(loop, 30)

    asyncio.run(scenario())
    assert b"caf\xe9-ran\n" in capfdbinary.readouterr().out  # bash printed the very byte
    assert (work / "out.sh").read_bytes().endswith(b"echo caf\xe9-ran\n")
