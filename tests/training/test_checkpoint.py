"""Checkpoints: a folder round-trips the modules exactly, loads without pickle, and never half-writes."""

from __future__ import annotations

import json

import pytest
import torch

from musclepose.models import BridgeConfig, EncoderConfig, MotionEncoder, PhysicsBridge
from musclepose.pipelines.checkpoint import checkpoint_labels, load_checkpoint
from musclepose.pipelines.labels import LabelMap
from musclepose.training import save_checkpoint


def _parts():
    torch.manual_seed(0)
    return {
        "encoder": MotionEncoder(EncoderConfig(d_model=16, n_layers=1, n_heads=2, ff_hidden=32)),
        "bridge": PhysicsBridge(BridgeConfig(d_model=16, ff_hidden=32, llm_hidden=24, embedding_scale=0.14)),
    }


def test_round_trip_is_exact(tmp_path):
    parts = _parts()
    folder = save_checkpoint(tmp_path / "ckpt", parts, extra={"step": 7, "command": "musclepose train coach"})
    # Plus the hidden manifest of what was written (only such a folder is ever replaced).
    assert sorted(p.name for p in folder.iterdir()) == [
        ".musclepose-manifest.json",
        "bridge.safetensors",
        "config.json",
        "encoder.safetensors",
    ]
    loaded, extra = load_checkpoint(folder)
    assert extra == {"step": 7, "command": "musclepose train coach"}
    assert loaded["bridge"].config == parts["bridge"].config
    for name in parts:
        a, b = parts[name].state_dict(), loaded[name].state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    x = torch.randn(1, 10, 7)
    parts["encoder"].eval(), loaded["encoder"].eval()
    torch.testing.assert_close(parts["encoder"](x, 30.0).q, loaded["encoder"](x, 30.0).q, rtol=0, atol=0)


def test_overwrite_keeps_one_folder_and_refuses_foreign_classes(tmp_path):
    folder = save_checkpoint(tmp_path / "ckpt", _parts())
    save_checkpoint(folder, _parts(), extra={"step": 2})
    assert load_checkpoint(folder)[1] == {"step": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # no temporary folders left
    meta = json.loads((folder / "config.json").read_text())
    meta["parts"]["encoder"]["module"] = "os.system"
    (folder / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="refused"):
        load_checkpoint(folder)


def test_missing_pieces_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no config.json"):
        load_checkpoint(tmp_path)
    folder = save_checkpoint(tmp_path / "c", _parts())
    (folder / "bridge.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="bridge.safetensors"):
        load_checkpoint(folder)


def test_label_lists_travel_in_config_json(tmp_path):
    labels = LabelMap(("squat", "lunge"), ("knee_valgus", "heel_lift", "forward_lean"))
    folder = save_checkpoint(tmp_path / "c", _parts(), extra={"step": 1}, labels=labels)
    meta = json.loads((folder / "config.json").read_text())
    assert meta["labels"] == {"exercise": ["squat", "lunge"], "fault": ["knee_valgus", "heel_lift", "forward_lean"]}
    assert checkpoint_labels(folder) == labels and load_checkpoint(folder)[1] == {"step": 1}
