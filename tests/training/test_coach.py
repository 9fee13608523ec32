"""Coach training on tiny models: data preparation, both stages, isolation, resume, labels, inference, evaluation."""

from __future__ import annotations

import json

import pytest
import torch

from musclepose.catalogue import FAULT_NAMES
from musclepose.language.backend import tiny_llm
from musclepose.pipelines.checkpoint import checkpoint_labels, load_checkpoint
from musclepose.pipelines.coach_examples import load_examples
from musclepose.pipelines.coach_inputs import ENCODER_FPS
from musclepose.pipelines.labels import EXERCISE_NAMES, LabelMap
from musclepose.sim.dataset import build_dataset
from musclepose.training.coach import CoachTrainConfig, train_coach
from musclepose.training.coach_lm import lm_batch, lm_pool

TINY_ENCODER = {"d_model": 32, "n_layers": 1, "n_heads": 2, "ff_hidden": 64, "dropout": 0.0}
TINY_BRIDGE = {"d_model": 32, "ff_hidden": 64, "n_heads": 2, "n_layers": 1}


@pytest.fixture(scope="module")
def examples(tmp_path_factory):
    out = tmp_path_factory.mktemp("coach") / "d.h5"
    build_dataset(out, 6, seed=5, exercises=["squat", "push_up"], fault_rate=1.0, duration_s=4.0, workers=1)
    return load_examples(out, workers=1, progress=False)


def _config(tmp_path, **kw):
    base = dict(out=str(tmp_path / "ckpt"), encoder_epochs=1, lm_epochs=1, batch_size=3, lm_batch_size=2,
                encoder=TINY_ENCODER, bridge=TINY_BRIDGE, lr_lm=1e-3)  # fmt: skip
    return CoachTrainConfig(**(base | kw))


def test_examples_are_decimated_and_labelled(examples):
    ex = examples[0]
    assert ex.fps == ENCODER_FPS and ex.inputs.shape == (ex.q.shape[0], 7 + 51)
    assert torch.isfinite(ex.inputs).all() and ex.contact.shape == (ex.q.shape[0], 2)
    assert ex.q[0, 0] == 0 and ex.q[0, 2] == 0 and ex.q[0, 1] > 0.5  # horizontal start at 0, hip height kept
    assert all(f in FAULT_NAMES for e in examples for f in e.faults) and any(e.faults for e in examples)
    assert ex.analysis["n_reps"] >= 1 and ex.peak_moments
    assert ex.grf.shape == (ex.q.shape[0], 2, 3) and ex.grf_psi.shape == (ex.q.shape[0], 2, 8)
    # Ground truth in body weights: a push-up's feet carry a fraction, a squat's at least the body.
    vertical = {e.exercise: float(e.grf[..., 1].sum(-1).mean()) for e in examples}
    assert 0.1 < vertical["push_up"] < 0.6 and vertical["squat"] > 0.97
    # Squats stand on both feet throughout; the keypoints are normalised to about unit height.
    squat = next(e for e in examples if e.exercise == "squat")
    assert squat.contact.mean() > 0.95
    kp = squat.inputs[:, 7:].reshape(-1, 17, 3)
    assert 0.6 < float(kp[..., 1].amax(1).median() - kp[..., 1].amin(1).median()) < 1.4


def test_lm_batch_puts_the_loss_on_the_target_only():
    llm = tiny_llm()
    soft = torch.zeros(1, 3, llm.hidden_size)
    b = lm_batch(llm, [(soft, "keep the knees", "over the toes"), (None, "the athlete performs a squat", "great form")])
    n_target = len(llm.tokenizer("over the toes" + llm.tokenizer.eos_token, add_special_tokens=False)["input_ids"])
    assert int((b["labels"][0] != -100).sum()) == n_target
    assert b["inputs_embeds"].shape[1] == max(3 + 3 + n_target, 5 + 3)
    assert int(b["attention_mask"][1].sum()) == 5 + 3  # right padding is masked


def test_lm_pool_repeats_the_clips_the_screen_finds_two_faults_in(examples):
    class Screen:  # the form screen's interface: the faults found in a clip's measures
        def screen(self, exercise, measures):
            return ["a", "b"] if exercise == "push_up" else ["a"]

    n_push = sum(e.exercise == "push_up" for e in examples)
    assert 0 < n_push < len(examples)
    pool = lm_pool(examples, Screen(), 3)
    assert len(pool) == len(examples) + 2 * n_push
    assert all(sum(p is e for p in pool) == (3 if e.exercise == "push_up" else 1) for e in examples)
    assert lm_pool(examples, Screen(), 1) == examples and lm_pool(examples, None, 3) == examples


def test_train_both_stages_isolated_and_resumable(tmp_path, examples):
    train, val = examples[:4], examples[4:]
    quiet = lambda *_: None  # noqa: E731
    out = train_coach(_config(tmp_path, lm_epochs=0), train, val, log=quiet)
    w1 = load_checkpoint(out)[0]["encoder"].state_dict()
    state = json.loads((out / "train_state" / "state.json").read_text())
    assert state["epoch"] == 1 and state["skipped_steps"] == 0
    assert 0.0 < state["history"][0]["grf"] < 1.0  # the GRF-residual head's loss (body weights), validated
    # Resume (as after a kill): a run with more epochs continues where the last checkpoint stopped.
    train_coach(_config(tmp_path, encoder_epochs=2, lm_epochs=0), train, val, log=quiet)
    w2 = load_checkpoint(out)[0]["encoder"].state_dict()
    state = json.loads((out / "train_state" / "state.json").read_text())
    assert [h["epoch"] for h in state["history"] if h["stage"] == "encoder"] == [1, 2]
    assert any(not torch.equal(w1[k], w2[k]) for k in w1)
    # The LM stage: bridge + LoRA learn, the encoder does not move (gradient isolation).
    train_coach(_config(tmp_path, encoder_epochs=2, lm_epochs=1), train, val, log=quiet, llm=tiny_llm(256))
    parts, extra = load_checkpoint(out)
    assert set(parts) == {"encoder", "bridge"} and (out / "adapter" / "adapter_model.safetensors").is_file()
    assert all(torch.equal(w2[k], v) for k, v in parts["encoder"].state_dict().items())
    state = json.loads((out / "train_state" / "state.json").read_text())
    assert state["lm_step"] == 2 and state["skipped_steps"] == 0
    assert all(torch.isfinite(torch.tensor(h["loss"])) for h in state["history"] if h["stage"] == "lm")
    assert extra["fault_names"] == list(FAULT_NAMES)
    # The label lists the heads were trained with travel in config.json; a run never resumes a
    # checkpoint whose heads mean other labels.
    assert checkpoint_labels(out) == LabelMap(EXERCISE_NAMES, FAULT_NAMES)
    meta = json.loads((out / "config.json").read_text())
    meta["labels"]["exercise"] = meta["labels"]["exercise"][::-1]
    (out / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="other label lists"):
        train_coach(_config(tmp_path, encoder_epochs=3, lm_epochs=1), train, val, log=quiet, llm=tiny_llm(256))


def test_inference_and_evaluation_run_on_the_checkpoint(tmp_path, examples):
    from musclepose.evaluation.coach import evaluate_encoder, evaluate_text
    from musclepose.pipelines.coach import CoachModel

    out = train_coach(_config(tmp_path), examples[:4], examples[4:], log=lambda *_: None, llm=tiny_llm(256))
    model = CoachModel.load(out, llm=tiny_llm(256))  # the same base weights (seeded), adapter from the folder
    ex = examples[0]
    r = model.speak(ex.inputs, ex.exercise, ex.analysis, ex.body, ex.peak_moments, max_new_tokens=8)
    assert isinstance(r.text, str) and r.summary.n_reps == ex.analysis["n_reps"]
    assert r.reference_text.startswith(("3", "That", "I counted", str(r.summary.n_reps)))
    assert "Form screen" in r.prompt and "Provide coaching feedback:" in r.prompt
    enc = evaluate_encoder(model, examples[4:])
    assert enc["n_clips"] == 2 and enc["mpjpe_mm"] > 0 and 0 <= enc["faults"]["recall"] <= 1
    assert 0 < enc["grf_rmse_bw"] < 2 and 0 < enc["grf_rmse_bw_seed_model"] < 2
    txt = evaluate_text(model, examples[4:], max_new_tokens=8)
    rb = txt["coaches"]["rule_based"]
    # The rule-based coach writes from the detections, so its numbers are always grounded and its
    # facts right.
    assert rb["ungrounded_fraction"] == 0.0 and rb["numbers_stated"] > 0
    assert rb["misstated_fraction"] == 0.0


def test_encoder_metrics_are_zero_for_an_oracle(tmp_path, examples):
    """An encoder that outputs the true motion scores 0 deg and 0 mm; an offset of 0.1 rad scores 5.73 deg."""
    from dataclasses import replace

    from musclepose.evaluation.coach import evaluate_encoder
    from musclepose.pipelines.coach import CoachModel

    out = train_coach(
        _config(tmp_path, lm_epochs=1), examples[:4], examples[4:], log=lambda *_: None, llm=tiny_llm(256)
    )
    model = CoachModel.load(out, llm=tiny_llm(256))
    truth = {e.inputs.data_ptr(): e.q for e in examples}

    class Oracle(torch.nn.Module):
        def __init__(self, inner, offset):
            super().__init__()
            self.inner, self.offset = inner, offset

        def forward(self, x, fps, pad=None):
            o = self.inner(x, fps, pad=pad)
            q = truth[x.data_ptr()].clone()[None]
            q[..., 6:] += self.offset
            return replace(o, q=q)

    model.encoder = Oracle(model.encoder, 0.0)
    exact = evaluate_encoder(model, examples[4:])
    assert exact["joint_angle_error_deg"] == pytest.approx(0.0, abs=1e-9) and exact["mpjpe_mm"] < 1e-6
    model.encoder = Oracle(model.encoder.inner, 0.1)
    off = evaluate_encoder(model, examples[4:])
    assert off["joint_angle_error_deg"] == pytest.approx(5.7296, abs=1e-3) and off["mpjpe_mm"] > 10.0
