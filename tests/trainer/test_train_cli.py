from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from trainer_helpers import fixture_docs, write_corpus

from bashcoder.cli.train import main as command
from bashcoder.trainer.config import TrainConfig
from bashcoder.trainer.step import is_out_of_memory, out_of_memory_error

pytestmark = pytest.mark.usefixtures("one_thread")
MICRO = [
    "--model-size",
    "micro",
    "--context",
    "64",
    "--batch-size",
    "8",
    "--warmup-steps",
    "2",
    "--device",
    "cpu",
    "--no-compile",
]


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(command, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_every_option_is_a_config_field_and_back() -> None:
    options = {p.name for p in command.params if p.name != "help"}
    assert options == {f.name for f in dataclasses.fields(TrainConfig)}


def test_a_short_run_reports_where_the_model_is(corpus_dir: Path, tmp_path: Path) -> None:
    code, out, err = run(
        *MICRO, "--max-steps", "4", "--data", corpus_dir, "--out", tmp_path / "o", "--vocab-size", "300"
    )
    assert code == 0, err
    assert "trained 4 steps (2,048 tokens)" in out and str(tmp_path / "o") in out


def test_a_short_run_works_with_the_default_warmup(corpus_dir: Path, tmp_path: Path) -> None:
    at = MICRO.index("--warmup-steps")
    no_warmup = MICRO[:at] + MICRO[at + 2 :]  # the default: what a user who never heard of warmup gets
    code, out, err = run(
        *no_warmup, "--max-steps", "30", "--data", corpus_dir, "--out", tmp_path / "o", "--vocab-size", "300"
    )
    assert code == 0, err
    assert "trained 30 steps" in out
    assert (tmp_path / "o" / "model.safetensors").is_file()


def test_one_directory_of_own_scripts_trains_and_says_validation_shares_its_source(tmp_path: Path) -> None:
    docs = [(f"# script {i}\n{text}", "home-bin") for i, (text, _) in enumerate(fixture_docs())]
    data = write_corpus(tmp_path / "data", docs)
    code, out, err = run(
        *MICRO, "--max-steps", "4", "--data", data, "--out", tmp_path / "o", "--vocab-size", "300"
    )
    assert code == 0, err
    assert "trained 4 steps" in out
    assert "validation shares a source with training" in err


def bad_input_cases(tmp_path: Path) -> list[tuple[list[str | Path], str]]:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "corpus.jsonl").write_text("")
    small = write_corpus(tmp_path / "small", [("echo a\n", "a"), ("echo b\n", "b"), ("echo c\n", "c")])
    good = write_corpus(tmp_path / "good", fixture_docs())
    return [
        (["--data", tmp_path / "missing"], "no corpus at"),
        (["--data", empty], "holds no documents"),
        (["--data", small, "--tokenizer", "char"], "fewer than one batch"),
        (["--data", good, "--vocab-size", "8192"], "too large for this corpus"),
        (
            ["--data", good, "--warmup-steps", "50", "--max-steps", "10"],
            "must be at least 0 and below --max-steps",
        ),
        (["--data", good, "--device", "tpu"], "unknown device"),
        (["--data", good, "--tokenizer", "char", "--vocab-size", "300"], "sizes a BPE vocabulary"),
    ]


def test_bad_input_is_one_line_and_exit_status_1(tmp_path: Path) -> None:
    for args, message in bad_input_cases(tmp_path):
        out = tmp_path / "out"
        code, stdout, stderr = run(*MICRO, "--max-steps", "10", "--out", out, *args)
        assert code == 1, (args, stdout, stderr)
        assert stderr.startswith("error: ") and message in stderr and stderr.count("\n") == 1, stderr
        assert not (out / "train_state").exists()


def test_resume_with_other_options_is_refused_and_loses_nothing(corpus_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    base = [
        *MICRO,
        "--max-steps",
        "6",
        "--data",
        corpus_dir,
        "--out",
        out,
        "--vocab-size",
        "300",
        "--save-interval",
        "3",
    ]
    assert run(*base)[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    code, _, err = run(*base, "--resume", "--batch-size", "4")
    assert code == 1 and "different options (--batch-size 8 -> 4)" in err and err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_out_of_memory_suggests_a_smaller_batch() -> None:
    with pytest.raises(RuntimeError) as failed:
        torch.empty(1 << 62, dtype=torch.uint8)  # a real allocation failure, not a mock
    assert is_out_of_memory(failed.value)
    assert not is_out_of_memory(RuntimeError("shape mismatch"))
    message = str(out_of_memory_error(16, 512, 1, torch.device("cpu")))
    assert "--batch-size 8 --grad-accum 2" in message and "\n" not in message


def test_compile_without_a_compiler_is_one_line_before_any_work(
    corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # torch's inductor failed at the first step, after the data was prepared, in a 100-line traceback.
    monkeypatch.setenv("CXX", str(tmp_path / "no-such-compiler"))
    args = [a for a in MICRO if a != "--no-compile"]
    code, _, err = run(
        *args, "--compile", "--max-steps", "4", "--data", corpus_dir, "--out", tmp_path / "out"
    )
    assert code == 1 and err.count("\n") == 1
    assert "--compile on CPU needs a C++ compiler" in err and "drop --compile" in err
    assert not (tmp_path / "out").exists()
