"""`bashcoder-generate` end to end, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent / "bashcoder-generate"


def run(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        input=stdin,
    )


def test_generate_prints_bash(micro_model_dir: Path) -> None:
    out = run(
        "--model",
        str(micro_model_dir),
        "--prompt",
        "# Back up a directory",
        "--temperature",
        "0",
        "--max-tokens",
        "40",
    )
    assert out.returncode == 0, out.stderr
    # A whole script starts with its shebang, as the scripts the model learnt from do.
    assert out.stdout.startswith("#!/bin/bash\n# Back up a directory\n")
    assert len(out.stdout.rstrip()) > len("#!/bin/bash\n# Back up a directory")
    # Cut by --max-tokens, the script is made whole: bash parses what is printed.
    assert subprocess.run(["bash", "-n"], input=out.stdout, text=True).returncode == 0


def test_a_prompt_with_its_own_shebang_or_another_mode_gets_none_added(micro_model_dir: Path) -> None:
    common = ("--model", str(micro_model_dir), "--temperature", "0", "--max-tokens", "8")
    out = run(*common, "--prompt", "#!/bin/sh\n# Back up")
    assert out.stdout.startswith("#!/bin/sh\n# Back up") and "#!/bin/bash" not in out.stdout
    out = run(*common, "--prompt", "tar -c", "--mode", "line")
    assert out.stdout.startswith("tar -c")


def test_generate_samples_with_check(micro_model_dir: Path) -> None:
    out = run(
        "--model",
        str(micro_model_dir),
        "--prompt",
        "#!/bin/bash\n",
        "--num-samples",
        "3",
        "--seed",
        "1",
        "--check",
        "--max-tokens",
        "30",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("### sample") == 3
    assert out.stdout.count("# bash -n:") == 3


def test_best_of_prints_the_top_of_the_ranked_draws(micro_model_dir: Path) -> None:
    common = (
        "--model",
        str(micro_model_dir),
        "--prompt",
        "# list files",
        "--seed",
        "5",
        "--max-tokens",
        "30",
    )
    ranked = run(*common, "--num-samples", "4", "--best-of", "4")
    best = run(*common, "--best-of", "4")  # prints the 1 best of the same 4 draws
    assert ranked.returncode == best.returncode == 0, ranked.stderr + best.stderr
    first = ranked.stdout.split("### sample 2")[0].split("\n", 1)[1]
    assert best.stdout == first
    # The default for a whole script is the best of several draws, so it is the same pick.
    assert run(*common).stdout == best.stdout


def test_several_greedy_samples_are_refused_in_one_line() -> None:
    out = run("--prompt", "ls", "--temperature", "0", "--num-samples", "3")
    assert out.returncode == 1 and out.stdout == ""
    assert (
        out.stderr.startswith("error: --temperature 0 (greedy) has one answer")
        and out.stderr.count("\n") == 1
    )


def test_seed_repeats(micro_model_dir: Path) -> None:
    args = (
        "--model",
        str(micro_model_dir),
        "--prompt",
        "for f in",
        "--seed",
        "3",
        "--temperature",
        "1.2",
        "--max-tokens",
        "20",
    )
    assert run(*args).stdout == run(*args).stdout


def test_model_from_env_and_prompt_from_stdin(micro_model_dir: Path) -> None:
    out = run(
        "--temperature",
        "0",
        "--max-tokens",
        "10",
        env={"BASHCODER_MODEL": str(micro_model_dir)},
        stdin="echo ",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("#!/bin/bash\necho ")


def test_info_prints_config_params_device_dtype(micro_model_dir: Path) -> None:
    out = run("--model", str(micro_model_dir), "--info")
    assert out.returncode == 0, out.stderr
    for word in ("n_layer: 2", "parameters:", "device: cpu", "dtype: weights float32"):
        assert word in out.stdout


def test_missing_model_is_one_line(tmp_path: Path) -> None:
    out = run("--model", str(tmp_path / "nope"), "--prompt", "x")
    assert out.returncode == 1
    assert out.stderr.startswith("error: model directory") and out.stderr.count("\n") == 1
    # Chosen by the environment, not by a flag: the message names the variable.
    out = run("--prompt", "x", env={"BASHCODER_MODEL": str(tmp_path / "gone")})
    assert out.returncode == 1 and out.stderr.startswith(f"error: $BASHCODER_MODEL names {tmp_path / 'gone'}")


def test_absent_device_is_one_line(micro_model_dir: Path) -> None:
    out = run("--model", str(micro_model_dir), "--prompt", "x", "--device", "mps")
    assert out.returncode == 1 and out.stderr.count("\n") == 1 and "mps" in out.stderr


def test_a_script_cut_by_the_token_budget_is_made_whole() -> None:
    from bashcoder.engine.oneshot import finish_script

    cut = 'for f in *; do\n  echo "$f"\n  if [ -d "$f" ]; then\n    ls "$'
    assert (
        finish_script("#!/bin/bash\n", cut, "length")
        == 'for f in *; do\n  echo "$f"\n  if [ -d "$f" ]; then\n  fi\ndone'
    )
    assert finish_script("#!/bin/bash\n", "echo hi\necho the", "stop") == "echo hi\n"
    assert finish_script("#!/bin/bash\n", cut, "eot") == cut  # it ended by itself: as it is


def test_a_cut_script_drops_lines_until_it_parses_when_asked() -> None:
    from bashcoder.engine.oneshot import finish_script
    from bashcoder.engine.syntax import bash_check

    # Closed as it is, the function's body would hold only a comment: bash refuses that.
    cut = "echo start\nf() {\n  # set up\n  local x=$"
    assert finish_script("#!/bin/bash\n", cut, "length") == "echo start\nf() {\n  # set up\n}"
    fixed = finish_script("#!/bin/bash\n", cut, "length", lambda t: bash_check(t).ok)
    assert fixed == "echo start\n" and bash_check("#!/bin/bash\n" + fixed).ok


def test_the_prompt_is_healed_and_printed_once(micro_model_dir: Path) -> None:
    # The prompt's last token is backed out and written again by the model
    # (`oneshot.ask`), as the editor and the terminal ask: what is printed
    # still starts with the prompt exactly once.
    from bashcoder.engine.loader import load_generator
    from bashcoder.engine.oneshot import ask

    prompt = "#!/bin/bash\nfor f in *.sh; do\n  ech"
    gen = load_generator(str(micro_model_dir), "cpu")
    ids, healing = ask(gen, prompt, "", 16)
    assert healing is not None and healing.text.endswith("ech")
    assert gen.tokenizer.decode(ids[1:]) + healing.text == prompt
    out = run(
        "--model",
        str(micro_model_dir),
        "--prompt",
        prompt,
        "--mode",
        "line",
        "--temperature",
        "0",
        "--max-tokens",
        "12",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(prompt) and not out.stdout[len(prompt) :].startswith("ech")


def test_a_binary_prompt_is_one_line(micro_model_dir: Path) -> None:
    out = run("--model", str(micro_model_dir), "--mode", "line", stdin="\x7fELF\x02\x01\x00\x00junk")
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.startswith("error:") and "binary" in out.stderr and out.stderr.count("\n") == 1


def test_an_output_that_cannot_be_written_is_one_line(micro_model_dir: Path) -> None:
    with open("/dev/full", "w") as full:  # every write fails: No space left on device
        out = subprocess.run(
            [str(BIN), "--model", str(micro_model_dir), "--prompt", "ls", "--max-tokens", "4"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert out.returncode == 1
    assert out.stderr.endswith("error: No space left on device.\n") and out.stderr.count("error") == 1


def test_a_closed_stdout_or_stdin_is_one_line_and_status_1(micro_model_dir: Path) -> None:
    # `>&-` printed nothing anywhere and exited 0; `<&-` raised a traceback.
    common = [str(BIN), "--model", str(micro_model_dir), "--max-tokens", "4"]
    closed_out = subprocess.run(
        [*common, "--prompt", "ls"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        pass_fds=(),
        preexec_fn=lambda: os.close(1),
    )
    assert closed_out.returncode == 1 and closed_out.stderr == (
        "error: stdout is closed, so nothing could be printed; run it with stdout open.\n"
    )
    closed_in = subprocess.run(
        common,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.close(0),
    )
    assert closed_in.returncode == 1 and closed_in.stderr.startswith("error: no prompt: stdin was empty")


def test_an_empty_stdin_a_suffix_alone_and_too_many_tokens_are_one_line_each(micro_model_dir: Path) -> None:
    model = ("--model", str(micro_model_dir))
    empty = run(*model, stdin="")  # an upstream command that printed nothing: no unprompted script
    assert empty.returncode == 1 and empty.stdout == "" and "stdin was empty" in empty.stderr
    # A cursor at the start of a file: asked for, and whatever the model writes is printed (an
    # empty middle is said on stderr).
    alone = run(*model, "--suffix", "\ndone\n", "--prompt", "", "--max-tokens", "1", "--temperature", "0")
    assert alone.returncode == 0 and alone.stdout.endswith("\ndone\n\n")
    assert (alone.stdout.strip() == "done") == ("the model wrote nothing" in alone.stderr)
    too_many = run(*model, "--prompt", "ls", "--mode", "line", "--max-tokens", "4000")
    assert too_many.returncode == 1 and too_many.stderr.count("\n") == 1
    assert "--max-tokens 4000 leaves no room for a prompt" in too_many.stderr and "or less" in too_many.stderr


def test_nothing_generated_is_said_on_stderr(micro_model_dir: Path) -> None:
    # A line cut at the token limit is dropped: with a tiny limit nothing is left, and the output
    # alone (just the prompt) did not say so.
    out = run(
        "--model",
        str(micro_model_dir),
        "--prompt",
        "for f in",
        "--mode",
        "line",
        "--max-tokens",
        "1",
        "--temperature",
        "0",
    )
    assert out.returncode == 0 and out.stdout.rstrip("\n") == "for f in"  # one token never ends a line
    assert "the model wrote nothing here within --max-tokens 1" in out.stderr


def test_a_block_after_an_opener_ends_with_its_closer(micro_model_dir: Path) -> None:
    common = ("--model", str(micro_model_dir), "--mode", "block", "--temperature", "0", "--max-tokens", "40")
    for prompt, closer in (("for f in *.log; do", "done"), ('if [ -d "$1" ]; then', "fi")):
        out = run(*common, "--prompt", prompt)
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith(prompt + "\n") and out.stdout.rstrip().endswith("\n" + closer), (
            out.stdout
        )
