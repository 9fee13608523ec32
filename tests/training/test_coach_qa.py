"""``musclepose train coach-qa`` on a tiny LLM and a few simulated clips: the folder it writes, its
refusals (exit code 2, before anything heavy), and the shipped copy the asker loads."""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from musclepose.cli import app
from musclepose.language.backend import tiny_llm
from musclepose.pipelines.ask import Asker
from musclepose.pipelines.labels import LabelMap
from musclepose.sim.dataset import build_dataset

runner = CliRunner()
TINY = ["--steps", "3", "--batch-size", "2", "--bridge-d-model", "16", "--bridge-layers", "1", "--lora-r", "2",
        "--val-per-kind", "1", "--workers", "1", "--threads", "1"]  # fmt: skip


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    """The tiny test LLM saved as a local model folder (what ``--llm`` reads)."""
    folder = tmp_path_factory.mktemp("llm") / "tiny"
    llm = tiny_llm(256)
    llm.model.save_pretrained(folder, safe_serialization=True)
    llm.tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("qa") / "d.h5"
    build_dataset(out, 6, seed=5, exercises=["squat"], fault_rate=1.0, duration_s=4.0, workers=1, modalities=[],
                  fatigue_rate=0.5)  # fmt: skip
    return out


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_tiny_run_writes_a_complete_checkpoint(tmp_path, dataset, tiny_folder, one_thread, monkeypatch):
    out, ship = tmp_path / "qa", tmp_path / "shipped"
    monkeypatch.setattr(sys, "argv", ["musclepose", "train", "coach-qa", "--steps", "3"])  # what the card records
    r = invoke("train", "coach-qa", "--data", dataset, "--out", out, "--ship", ship, "--llm", tiny_folder, "--json",
               *TINY)  # fmt: skip
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert summary["steps"] == 3 and np.isfinite(summary["last_loss"]) and summary["pairs"] > 0
    meta = json.loads((out / "config.json").read_text())
    extra = meta["extra"]
    # The card: label maps, command, the data set's hash (checked against hashlib here), history, metrics.
    assert meta["labels"] == LabelMap.current().to_json()
    assert extra["fault_names"] == meta["labels"]["fault"]
    cfg = extra["train_config"]
    assert cfg["command"].startswith("musclepose train coach-qa") and "--steps 3" in cfg["command"]
    assert cfg["data_sha256"]["dataset"] == hashlib.sha256(dataset.read_bytes()).hexdigest()
    assert len(cfg["data_sha256"]["train_clips"]) == 64
    assert [h["step"] for h in extra["history"]] == [1, 2, 3]
    if summary["clips"]["val"]:
        acc = extra["metrics"]["accuracy"]
        assert set(acc) == {"llm-tokens", "llm-zeroed", "llm-table"} and all(0 <= a <= 1 for a in acc.values())
    # No pickle anywhere: weights are safetensors, the rest JSON (and peft's adapter README).
    names = {p.suffix for p in out.rglob("*") if p.is_file()} | {p.suffix for p in ship.rglob("*") if p.is_file()}
    assert names <= {".json", ".safetensors", ".md"}, names
    assert (out / "adapter" / "adapter_model.safetensors").is_file() and (out / "train_state").is_dir()
    # The shipped copy: float16 of the same weights, no train state, the same card.
    assert not (ship / "train_state").exists()
    full, half = load_file(out / "event_bridge.safetensors"), load_file(ship / "event_bridge.safetensors")
    for k, v in full.items():
        assert half[k].dtype == torch.float16 and torch.equal(half[k], v.half()), k
    a_full = load_file(out / "adapter" / "adapter_model.safetensors")
    a_half = load_file(ship / "adapter" / "adapter_model.safetensors")
    assert a_full.keys() == a_half.keys() and all(torch.equal(a_half[k], v.half()) for k, v in a_full.items())
    assert json.loads((ship / "config.json").read_text())["extra"]["train_config"] == cfg


def test_shipped_copy_answers_with_each_llm_answerer(tmp_path, dataset, tiny_folder, one_thread):
    from musclepose.language.backend import LLMConfig, load_llm
    from musclepose.pipelines.coach import default_checkpoint
    from musclepose.pipelines.qa_data import qa_clips

    ship = tmp_path / "shipped"
    r = invoke("train", "coach-qa", "--data", dataset, "--out", tmp_path / "qa", "--ship", ship, "--llm", tiny_folder,
               "--json", *TINY)  # fmt: skip
    assert r.exit_code == 0, r.output
    clip = qa_clips(dataset, default_checkpoint(), workers=1, progress=False)[0]
    asker = Asker(llm=load_llm(LLMConfig(name_or_path=str(tiny_folder), device="cpu")), qa_folder=ship)
    prompts = {}
    for answerer in ("llm-tokens", "llm-zeroed", "llm-table"):
        prompt, soft, n = asker.prepare("Which repetition was the deepest?", clip.events, clip.rep_states,
                                        answerer=answerer)  # fmt: skip
        prompts[answerer] = (prompt, soft, n)
        res = asker.ask("Which repetition was the deepest?", clip.events, rep_states=clip.rep_states,
                        answerer=answerer, max_new_tokens=4)  # fmt: skip
        assert res.answerer == answerer and res.prompt_tokens == n
    # One soft token per repetition and side; zeroed is the same shape of zeros; the table prompt is longer.
    soft = prompts["llm-tokens"][1]
    assert soft.shape[1] == 2 * clip.events.n_reps and soft.abs().sum() > 0
    assert torch.count_nonzero(prompts["llm-zeroed"][1]) == 0
    assert len(prompts["llm-table"][0]) > len(prompts["llm-tokens"][0])


def test_bad_output_folder_is_refused_before_work(tmp_path):
    dataset = tmp_path / "d.h5"  # never read: every refusal comes before the data are opened
    dataset.write_bytes(b"")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("not MusclePose's")
    r = invoke("train", "coach-qa", "--data", dataset, "--out", foreign, "--steps", "1")
    assert r.exit_code == 2 and "mine" in r.output
    assert (foreign / "notes.txt").read_text() == "not MusclePose's"  # untouched
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    r = invoke("train", "coach-qa", "--data", dataset, "--out", a_file / "qa", "--steps", "1")
    assert r.exit_code == 2 and "a_file" in r.output
    r = invoke("train", "coach-qa", "--data", tmp_path / "missing.h5", "--out", tmp_path / "qa", "--steps", "1")
    assert r.exit_code == 2 and "missing.h5" in r.output
    r = invoke("train", "coach-qa", "--data", dataset, "--out", tmp_path / "qa", "--llm", tmp_path / "no_llm")
    assert r.exit_code == 2 and "no_llm" in r.output
    assert not (tmp_path / "qa").exists()
