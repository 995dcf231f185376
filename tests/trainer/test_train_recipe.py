"""The training recipe options: the WSD schedule, the Muon optimizer, their TrainConfig checks, and
--init-from, which continues a run in a copy while the original stays as it was."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from pathlib import Path

import pytest
import torch
from trainer_helpers import micro_config

from bashcoder.engine.config import preset
from bashcoder.engine.errors import BashcoderError
from bashcoder.engine.model import build_model
from bashcoder.trainer.config import TrainConfig
from bashcoder.trainer.optim import build_optimizer
from bashcoder.trainer.outdir import branch_run, check_out_dir
from bashcoder.trainer.schedule import lr_at
from bashcoder.trainer.state import STATE_DIR, load_train_state, save_train_state
from bashcoder.trainer.train import train

pytestmark = pytest.mark.usefixtures("one_thread")
CPU = torch.device("cpu")


# ---- WSD schedule -------------------------------------------------------------
def test_wsd_holds_the_peak_then_decays_over_the_last_steps_only() -> None:
    peak, warmup, steps, decay, ratio = 1.0, 10, 100, 20, 0.1
    lrs = [lr_at(s, peak, warmup, steps, ratio, "wsd", decay) for s in range(120)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a < b for a, b in zip(lrs[:10], lrs[1:10], strict=False))
    assert all(lr == peak for lr in lrs[10:80])  # constant: no decay before max_steps - decay_steps
    assert all(a > b for a, b in zip(lrs[80:100], lrs[81:100], strict=False))  # strictly falling
    assert lrs[79] == peak and lrs[80] < peak
    assert lrs[99] == pytest.approx(peak * ratio)  # the floor at the last step
    assert all(lr == pytest.approx(peak * ratio) for lr in lrs[100:])  # and past it


def test_wsd_decay_has_the_one_minus_sqrt_shape() -> None:
    peak, floor = 2.0, 0.2
    for step in range(80, 100):
        progress = (step - 80 + 1) / 20
        want = floor + (peak - floor) * (1 - math.sqrt(progress))
        assert lr_at(step, peak, 10, 100, 0.1, "wsd", 20) == pytest.approx(want)
    # Halfway through the decay the rate is far below a linear one: 1 - sqrt(0.5) ~ 0.29 of the way up.
    half = lr_at(89, peak, 10, 100, 0.1, "wsd", 20)
    assert half == pytest.approx(floor + (peak - floor) * (1 - math.sqrt(0.5)))


def test_wsd_without_decay_steps_never_decays() -> None:
    assert [lr_at(s, 3e-3, 5, 50, 0.1, "wsd", 0) for s in range(5, 500)] == [3e-3] * 495


def test_cosine_is_still_the_default_schedule() -> None:
    assert lr_at(60, 1.0, 10, 110, 0.1) == pytest.approx(0.55)
    assert lr_at(60, 1.0, 10, 110, 0.1, "cosine", 0) == pytest.approx(0.55)


# ---- Muon ---------------------------------------------------------------------
def micro_model(seed: int = 0) -> torch.nn.Module:
    return build_model(preset("micro", vocab_size=300), seed=seed)


def one_step(model: torch.nn.Module, optimizer, batch: torch.Tensor) -> None:  # noqa: ANN001
    optimizer.zero_grad()
    model.loss(batch[:, :-1], batch[:, 1:]).backward()
    optimizer.step()


def test_muon_takes_the_hidden_matrices_and_adamw_the_embedding_and_norms() -> None:
    model = micro_model()
    opt = build_optimizer(model, 1e-3, 0.1, CPU, "muon")
    muon, adamw = opt.parts
    assert isinstance(muon, torch.optim.Muon) and isinstance(adamw, torch.optim.AdamW)
    names = {id(p): n for n, p in model.named_parameters()}
    to_muon = {names[id(p)] for g in muon.param_groups for p in g["params"]}
    to_adamw = {names[id(p)] for g in adamw.param_groups for p in g["params"]}
    assert to_muon | to_adamw == set(names.values()) and not to_muon & to_adamw
    assert "wte.weight" in to_adamw and "norm.weight" in to_adamw
    assert all(dict(model.named_parameters())[n].dim() == 2 for n in to_muon)
    assert all(n.endswith(("qkv.weight", "proj.weight", "fc.weight", "out.weight")) for n in to_muon)
    assert all(n == "wte.weight" or dict(model.named_parameters())[n].dim() == 1 for n in to_adamw)
    # Setting a group's rate (as the schedule does) reaches both optimizers.
    assert len(opt.param_groups) == len(muon.param_groups) + len(adamw.param_groups)
    for group in opt.param_groups:
        group["lr"] = 0.5
    assert all(g["lr"] == 0.5 for g in muon.param_groups + adamw.param_groups)


def test_an_unknown_optimizer_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown optimizer 'sgd'"):
        build_optimizer(micro_model(), 1e-3, 0.1, CPU, "sgd")


def test_a_restored_muon_optimizer_takes_the_identical_next_step(tmp_path: Path) -> None:
    torch.manual_seed(0)
    batches = [torch.randint(0, 300, (4, 17)) for _ in range(4)]
    model = micro_model()
    opt = build_optimizer(model, 1e-2, 0.1, CPU, "muon")
    for batch in batches[:3]:
        one_step(model, opt, batch)
    # Through the files train_state/ holds, as --resume reads them.
    save_train_state(tmp_path, model.state_dict(), opt.state_dict(), {"step": 3})
    saved = load_train_state(tmp_path)
    copy_model = micro_model(seed=1)
    copy_model.load_state_dict(saved.model)
    restored = build_optimizer(copy_model, 1e-2, 0.1, CPU, "muon")
    restored.load_state_dict(saved.optimizer)
    # A fresh optimizer (no momentum) from the same weights: the control that shows the state matters.
    fresh_model = micro_model(seed=2)
    fresh_model.load_state_dict(saved.model)
    fresh = build_optimizer(fresh_model, 1e-2, 0.1, CPU, "muon")
    one_step(model, opt, batches[3])
    one_step(copy_model, restored, batches[3])
    one_step(fresh_model, fresh, batches[3])
    for (name, p), q in zip(model.named_parameters(), copy_model.parameters(), strict=True):
        assert torch.equal(p, q), name
    assert not all(
        torch.equal(p, q) for p, q in zip(model.parameters(), fresh_model.parameters(), strict=True)
    )


def test_the_muon_state_dict_round_trips_in_memory() -> None:
    torch.manual_seed(0)
    model = micro_model()
    opt = build_optimizer(model, 1e-2, 0.1, CPU, "muon")
    for _ in range(2):
        one_step(model, opt, torch.randint(0, 300, (4, 17)))
    state = opt.state_dict()
    n_params = len(list(model.parameters()))
    assert sorted(state["state"]) == list(range(n_params))  # one index space, as one optimizer's
    other = build_optimizer(model, 1e-2, 0.1, CPU, "muon")
    other.load_state_dict(state)
    again = other.state_dict()
    assert again["param_groups"] == state["param_groups"]
    for idx, entry in state["state"].items():
        for key, value in entry.items():
            got = again["state"][idx][key]
            assert torch.equal(got, value) if isinstance(value, torch.Tensor) else got == value, (idx, key)


# ---- TrainConfig ----------------------------------------------------------------
def test_the_default_warmup_scales_with_a_short_run() -> None:
    assert TrainConfig(max_steps=30).warmup == 3
    assert TrainConfig(max_steps=5000).warmup == 100
    assert TrainConfig(max_steps=5).warmup == 0
    assert TrainConfig(max_steps=30, warmup_steps=7).warmup == 7


def test_the_default_wsd_decay_is_a_fifth_of_the_run() -> None:
    assert TrainConfig(max_steps=1000, schedule="wsd").decay == 200
    assert TrainConfig(max_steps=1000, schedule="wsd", decay_steps=0).decay == 0
    assert TrainConfig(max_steps=1000).decay == 200  # wsd is the default: it won the README's comparison
    assert TrainConfig(max_steps=1000, schedule="cosine").decay == 0  # cosine decays over the whole run


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"optimizer": "sgd"}, "unknown optimizer 'sgd'; choose one of adamw, muon."),
        ({"schedule": "linear"}, "unknown schedule 'linear'; choose one of cosine, wsd."),
        ({"schedule": "wsd", "decay_steps": 31}, "--decay-steps 31 must be between 0 and --max-steps 30."),
        ({"schedule": "wsd", "decay_steps": -1}, "--decay-steps -1 must be between 0 and --max-steps 30."),
        ({"schedule": "cosine", "decay_steps": 5}, "--decay-steps belongs to --schedule wsd"),
        ({"mix": (("git", 0.0),)}, "--mix git=0.0: each source once"),
        ({"mix": (("git", 1.5),)}, "--mix git=1.5: each source once"),
        ({"mix": (("git", 0.3), ("git", 0.2))}, "--mix git=0.2: each source once"),
        ({"init_from": Path("runs/a"), "resume": True}, "--init-from starts a new --out from another run"),
    ],
)
def test_bad_recipe_options_are_one_line_errors(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(BashcoderError) as exc:
        TrainConfig(max_steps=30, **overrides)  # type: ignore[arg-type]
    assert str(exc.value).startswith(message)
    assert "\n" not in str(exc.value)


def test_good_recipe_options_are_accepted() -> None:
    cfg = TrainConfig(
        max_steps=30, optimizer="muon", schedule="wsd", decay_steps=0, mix=(("git", 0.5), ("docs", 0.2))
    )
    assert cfg.warmup == 3 and cfg.decay == 0
    assert cfg.to_dict()["mix"] == "git=0.5,docs=0.2"


# ---- --init-from ------------------------------------------------------------------
def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def train_records(out: Path) -> list[dict[str, float]]:
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == "train"]


@pytest.mark.slow
def test_init_from_decays_a_copy_while_the_constant_run_stays_untouched(
    corpus_dir: Path, tmp_path: Path
) -> None:
    base = micro_config(
        corpus_dir,
        tmp_path / "const",
        max_steps=12,
        schedule="wsd",
        decay_steps=0,
        save_interval=6,
        eval_interval=6,
    )
    first = train(base)
    assert first.step == 12
    before = tree_digest(tmp_path / "const")
    decayed = dataclasses.replace(
        base, out=tmp_path / "decayed", init_from=tmp_path / "const", max_steps=20, decay_steps=8
    )
    second = train(decayed)
    assert second.step == 20 and second.interrupted is None
    # The constant-rate run is exactly as it was.
    assert tree_digest(tmp_path / "const") == before
    assert load_train_state(tmp_path / "const").step == 12
    # The copy went on from step 12: its curve holds the original's first 12 steps, then 8 decaying ones.
    records = train_records(tmp_path / "decayed")
    assert [r["step"] for r in records] == list(range(1, 21))
    assert [r["loss"] for r in records[:12]] == [r["loss"] for r in train_records(tmp_path / "const")]
    peak = decayed.peak_lr
    assert [r["lr"] for r in records[5:12]] == [pytest.approx(peak)] * 7
    tail = [r["lr"] for r in records[12:]]
    assert all(a > b for a, b in zip(tail, tail[1:], strict=False))
    assert tail[-1] == pytest.approx(peak * decayed.min_lr_ratio)
    # ... and it is the very run one would have had by training 20 steps with that decay from the start.
    straight = train(dataclasses.replace(decayed, out=tmp_path / "straight", init_from=None))
    assert [r["loss"] for r in records] == pytest.approx(
        [r["loss"] for r in train_records(tmp_path / "straight")], rel=1e-5, abs=1e-6
    )
    for (name, p), q in zip(
        straight.model.state_dict().items(), second.model.state_dict().values(), strict=True
    ):
        assert torch.allclose(p, q, atol=1e-6), name


@pytest.mark.slow
def test_a_muon_run_resumes_exactly(corpus_dir: Path, tmp_path: Path) -> None:
    cfg = micro_config(
        corpus_dir, tmp_path / "split", max_steps=10, save_interval=5, optimizer="muon", schedule="wsd"
    )
    whole = train(dataclasses.replace(cfg, out=tmp_path / "whole"))
    assert train(cfg, stop_after=4).step == 4
    resumed = train(dataclasses.replace(cfg, resume=True))
    assert resumed.step == 10
    assert [r["loss"] for r in train_records(tmp_path / "split")] == pytest.approx(
        [r["loss"] for r in train_records(tmp_path / "whole")], rel=1e-5, abs=1e-6
    )
    for (name, p), q in zip(
        whole.model.state_dict().items(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.allclose(p, q, atol=1e-6), name


def test_init_from_a_directory_without_a_run_is_refused(corpus_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "not-a-run"
    empty.mkdir()
    (empty / "notes.txt").write_text("hello\n")
    cfg = micro_config(corpus_dir, tmp_path / "copy", init_from=empty)
    with pytest.raises(BashcoderError, match=re.escape(f"--init-from {empty}: no {STATE_DIR}/ there")):
        train(cfg)
    assert not (tmp_path / "copy" / STATE_DIR).exists()


def test_an_out_that_is_a_file_or_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("kept\n")
    with pytest.raises(BashcoderError, match="is a file; name a directory"):
        check_out_dir(blocker, resume=False)
    with pytest.raises(BashcoderError, match="cannot create it"):
        check_out_dir(blocker / "run", resume=False)
    assert blocker.read_text() == "kept\n"
    check_out_dir(tmp_path / "new" / "run", resume=False)  # a new directory is made, parents too
    assert (tmp_path / "new" / "run").is_dir()


def test_branch_run_copies_a_run_and_refuses_to_overwrite(tmp_path: Path) -> None:
    source = tmp_path / "run"
    model = micro_model()
    opt = build_optimizer(model, 1e-3, 0.1, CPU)
    save_train_state(source, model.state_dict(), opt.state_dict(), {"step": 7})
    (source / "metrics.jsonl").write_text('{"kind": "train", "step": 7}\n')
    (source / ".scratch").write_text("hidden files stay behind\n")
    before = tree_digest(source)
    out = tmp_path / "copy"
    branch_run(source, out)
    assert tree_digest(source) == before
    assert tree_digest(out) == {k: v for k, v in before.items() if k != ".scratch"}
    assert load_train_state(out).step == 7
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging left behind
    with pytest.raises(BashcoderError, match="already holds files"):
        branch_run(source, out)
    with pytest.raises(BashcoderError, match="names --out itself"):
        branch_run(source, source)


def test_muon_on_a_cpu_without_amx_orthogonalises_in_float32_like_torch() -> None:
    """torch's Newton-Schulz runs in bf16, which such CPUs emulate (~18x slower); ours must give its result."""
    import torch.optim._muon as muon_impl

    from bashcoder.trainer.optim import newton_schulz_fp32

    grad = torch.randn(96, 32, generator=torch.Generator().manual_seed(0))
    ours = newton_schulz_fp32(grad, (3.4445, -4.775, 2.0315), 5, 1e-7)
    theirs = muon_impl.__dict__.get("_zeropower_via_newtonschulz")
    assert theirs is not None, "torch renamed _zeropower_via_newtonschulz: revisit trainer/optim.py"
    if theirs is newton_schulz_fp32:  # patched by an earlier test in this process
        return
    reference = theirs(grad, (3.4445, -4.775, 2.0315), 5, 1e-7).float()
    assert ours.shape == grad.shape
    assert torch.allclose(ours, reference, atol=0.02), (ours - reference).abs().max()


@pytest.mark.slow
def test_a_constant_rate_run_resumes_on_a_new_mix_but_not_on_new_data(tmp_path: Path) -> None:
    from trainer_helpers import fixture_docs, write_corpus

    data = write_corpus(tmp_path / "data", fixture_docs())
    lines = (data / "corpus.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    for i, rec in enumerate(records):
        rec["source"] = "git" if i % 2 else "dir"
    records.sort(key=lambda r: (r["source"], r["group"], r["path"]))
    (data / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    base = micro_config(data, tmp_path / "run", max_steps=6, schedule="wsd", decay_steps=0, save_interval=3)
    assert train(base).step == 6
    more = dataclasses.replace(base, max_steps=10, resume=True, mix=(("git", 0.8),))
    assert train(more).step == 10  # the mix changed, the corpus and tokenizer did not
    assert load_train_state(tmp_path / "run").payload["config"]["mix"] == "git=0.8"
    with (data / "corpus.jsonl").open("a") as fh:  # new data: the token ids may mean something else
        fh.write(
            json.dumps({**records[0], "path": "extra.sh", "text": records[0]["text"] + "\necho extra\n"})
            + "\n"
        )
    with pytest.raises(BashcoderError, match="prepared data"):
        train(dataclasses.replace(more, max_steps=12))


def test_the_defaults_are_the_recipe_that_won_and_the_rate_follows_the_optimizer() -> None:
    cfg = TrainConfig()
    assert (cfg.optimizer, cfg.schedule) == ("muon", "wsd")
    assert cfg.peak_lr == 8e-3
    assert TrainConfig(optimizer="adamw").peak_lr == 1e-3
    assert TrainConfig(optimizer="adamw", lr=5e-4).peak_lr == 5e-4


# ---- --init-weights: a new run from a model's weights -------------------------
def val_records(out: Path) -> list[dict[str, float]]:
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == "val"]


@pytest.mark.slow
def test_init_weights_starts_a_fresh_run_where_the_model_left_off(corpus_dir: Path, tmp_path: Path) -> None:
    first = train(micro_config(corpus_dir, tmp_path / "a", max_steps=30, eval_interval=30))
    best = val_records(tmp_path / "a")[-1]["bpb"]
    scratch = micro_config(
        corpus_dir, tmp_path / "scratch", max_steps=1, eval_interval=1, lr=1e-9, warmup_steps=0
    )
    train(scratch)
    cont = train(dataclasses.replace(scratch, out=tmp_path / "b", init_weights=tmp_path / "a"))
    assert cont.step == 1  # a fresh run: step 0, its own schedule and optimizer
    # At a negligible rate the first evaluation scores the given model, not a new one.
    assert val_records(tmp_path / "b")[0]["bpb"] == pytest.approx(best, rel=1e-3)
    assert val_records(tmp_path / "scratch")[0]["bpb"] > best + 0.5
    for (name, p), q in zip(first.model.state_dict().items(), cont.model.state_dict().values(), strict=True):
        assert torch.allclose(p, q, atol=1e-5), name


@pytest.mark.slow
def test_init_weights_encodes_the_data_with_that_models_tokenizer(corpus_dir: Path, tmp_path: Path) -> None:
    # Going on training a model (the shipped one) on your own scripts: a tokenizer trained on the
    # new corpus would give its tokens other ids, so the run must use the model's own.
    train(micro_config(corpus_dir, tmp_path / "a", max_steps=2, eval_interval=2, warmup_steps=0))
    cont = train(micro_config(corpus_dir, tmp_path / "b", vocab_size=280, init_weights=tmp_path / "a"))
    assert cont.step > 0
    assert (tmp_path / "b" / "tokenizer.json").read_bytes() == (
        tmp_path / "a" / "tokenizer.json"
    ).read_bytes()
    # A resume without the flag keeps that tokenizer (a new one was trained, then the data refused).
    longer = micro_config(corpus_dir, tmp_path / "b", vocab_size=280, max_steps=cont.step + 2, resume=True)
    assert train(longer).step == cont.step + 2
    with pytest.raises(BashcoderError, match=r"--init-weights .*nowhere: no model there"):
        train(micro_config(corpus_dir, tmp_path / "e", init_weights=tmp_path / "nowhere"))
    assert not (tmp_path / "e").exists() or not any((tmp_path / "e").iterdir())
    with pytest.raises(BashcoderError, match="keep one of them"):
        micro_config(corpus_dir, tmp_path / "d", init_weights=tmp_path / "a", init_from=tmp_path / "a")
