"""Label maps travel with checkpoints: heads are decoded with the checkpoint's lists, never the code's.

Independent reference: an encoder whose head rows are permuted, saved with its label lists
permuted the same way, must decode every clip exactly as the original does (and differently
when read with the code's lists, so the check has teeth).
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

from musclepose.catalogue import EXERCISES, FAULT_NAMES
from musclepose.models import BridgeConfig, EncoderConfig, MotionEncoder, PhysicsBridge
from musclepose.pipelines.checkpoint import checkpoint_labels, load_checkpoint
from musclepose.pipelines.coach import CoachModel, default_checkpoint
from musclepose.pipelines.coach_inputs import ENCODER_FPS
from musclepose.pipelines.labels import EXERCISE_NAMES, LabelMap, detect_faults
from musclepose.training import save_checkpoint

NE, NF = len(EXERCISE_NAMES), len(FAULT_NAMES)


def _encoder() -> MotionEncoder:
    torch.manual_seed(3)
    enc = MotionEncoder(EncoderConfig(keypoint_dim=51, d_model=16, n_layers=1, n_heads=2, ff_hidden=32, dropout=0.0,
                                      n_faults=NF, n_exercises=NE))  # fmt: skip
    with torch.no_grad():  # spread the fault logits so that some pass 0.5 and some do not
        enc.clip_head[-1].bias[:NF] = torch.linspace(-3.0, 3.0, NF)
    return enc.eval()


def _permuted(enc: MotionEncoder, pe: list[int], pf: list[int]) -> MotionEncoder:
    """``enc`` with output ``k`` of each head moved from row ``perm[k]`` (fault, severity, side, exercise)."""
    out = copy.deepcopy(enc)
    rows = [*pf, *(NF + i for i in pf), *(2 * NF + i for i in pf), *(3 * NF + i for i in pe)]
    last = out.clip_head[-1]
    with torch.no_grad():
        last.weight.copy_(enc.clip_head[-1].weight[rows])
        last.bias.copy_(enc.clip_head[-1].bias[rows])
    return out


def _model(folder) -> CoachModel:
    """What CoachModel.load builds from a checkpoint, without the LLM and adapter."""
    parts, extra = load_checkpoint(folder)
    labels = checkpoint_labels(folder).check(folder)
    return CoachModel(parts["encoder"], torch.nn.Identity(), None, extra, labels=labels)


def test_a_checkpoint_with_permuted_labels_decodes_as_the_original(tmp_path):
    rng = np.random.default_rng(0)
    pe, pf = [int(i) for i in rng.permutation(NE)], [int(i) for i in rng.permutation(NF)]
    enc = _encoder()
    current = LabelMap.current()
    permuted = LabelMap(tuple(EXERCISE_NAMES[i] for i in pe), tuple(FAULT_NAMES[i] for i in pf))
    save_checkpoint(tmp_path / "a", {"encoder": enc}, labels=current)
    save_checkpoint(tmp_path / "b", {"encoder": _permuted(enc, pe, pf)}, labels=permuted)
    a, b = _model(tmp_path / "a"), _model(tmp_path / "b")
    assert b.labels == permuted and b.labels != current
    torch.manual_seed(1)
    for k in range(6):
        channels = np.random.default_rng(k).normal(size=(80, 7)) * [0.1, 0.1, 20, 20, 20, 20, 20] + 0.5
        assert a.classify(channels, fps=40.0) == b.classify(channels, fps=40.0)
        x = torch.randn(40, 58)
        out_a, out_b = a.encoder(x[None], ENCODER_FPS), b.encoder(x[None], ENCODER_FPS)
        for exercise in EXERCISES:
            found = detect_faults(out_a, 0, exercise, a.labels)
            assert found == detect_faults(out_b, 0, exercise, b.labels)
    assert any(detect_faults(out_a, 0, e, a.labels) for e in EXERCISES)
    # Read with the code's lists instead, the permuted checkpoint would mislabel.
    wrong = [detect_faults(out_b, 0, e, current) != detect_faults(out_a, 0, e, current) for e in EXERCISES]
    assert any(wrong)


def test_a_checkpoint_with_an_unknown_label_is_refused_by_name(tmp_path):
    labels = LabelMap(EXERCISE_NAMES, (*FAULT_NAMES[:-1], "juggling_wobble"))
    folder = save_checkpoint(tmp_path / "ckpt", {"encoder": _encoder()}, labels=labels)
    with pytest.raises(ValueError, match=r"ckpt.*labels differ.*fault labels \['juggling_wobble'\]"):
        CoachModel.load(folder)
    labels = LabelMap((*EXERCISE_NAMES[:-1], "curling"), FAULT_NAMES)
    save_checkpoint(folder, {"encoder": _encoder()}, labels=labels)
    with pytest.raises(ValueError, match=r"exercise labels \['curling'\]"):
        CoachModel.load(folder)


def test_labels_must_fit_the_heads(tmp_path):
    labels = LabelMap(EXERCISE_NAMES[:-1], FAULT_NAMES)
    bridge = PhysicsBridge(BridgeConfig(d_model=16, ff_hidden=32, llm_hidden=24, embedding_scale=0.1))
    folder = save_checkpoint(tmp_path / "ckpt", {"encoder": _encoder(), "bridge": bridge}, labels=labels)
    with pytest.raises(ValueError, match=f"{NE - 1} exercise and {NF} fault labels for heads of {NE} exercises"):
        CoachModel.load(folder)


def test_an_older_checkpoint_is_read_with_the_lists_it_recorded(tmp_path):
    """Before ``labels``, every coach checkpoint recorded its lists in ``extra`` (the shipped one too)."""
    extra = {"exercise_names": list(EXERCISE_NAMES[::-1]), "fault_names": list(FAULT_NAMES)}
    folder = save_checkpoint(tmp_path / "old", {"encoder": _encoder()}, extra=extra)
    assert "labels" not in json.loads((folder / "config.json").read_text())
    assert checkpoint_labels(folder) == LabelMap(EXERCISE_NAMES[::-1], FAULT_NAMES)
    save_checkpoint(folder, {"encoder": _encoder()})
    with pytest.raises(ValueError, match="old: the checkpoint has no label lists"):
        checkpoint_labels(folder)


def test_the_shipped_checkpoint_carries_the_lists_it_was_trained_with():
    folder = default_checkpoint()
    meta = json.loads((folder / "config.json").read_text())
    labels = checkpoint_labels(folder).check(folder)
    assert labels == LabelMap(tuple(meta["extra"]["exercise_names"]), tuple(meta["extra"]["fault_names"]))
    enc = meta["parts"]["encoder"]["config"]
    assert (len(labels.exercises), len(labels.faults)) == (enc["n_exercises"], enc["n_faults"])
