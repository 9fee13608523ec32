"""Tampered checkpoints and models: nothing outside the folder is read, nothing is allocated from a forged
size, damaged weights and a missing LLM are clear errors, and nothing reaches the network."""

from __future__ import annotations

import json
import shutil
import socket

import pytest
import torch
from safetensors.torch import load_file, save_file

from musclepose.io.errors import FormatError
from musclepose.models import BridgeConfig, EncoderConfig, MotionEncoder, PhysicsBridge
from musclepose.pipelines.checkpoint import check_adapter, load_checkpoint
from musclepose.training import save_checkpoint

from .conftest import assert_refused, cli


@pytest.fixture
def ckpt(tmp_path):
    torch.manual_seed(0)
    parts = {
        "encoder": MotionEncoder(EncoderConfig(d_model=16, n_layers=1, n_heads=2, ff_hidden=32)),
        "bridge": PhysicsBridge(BridgeConfig(d_model=16, ff_hidden=32, llm_hidden=24, embedding_scale=0.14)),
    }
    return save_checkpoint(tmp_path / "ckpt", parts)


def _edit(folder, change):
    meta = json.loads((folder / "config.json").read_text())
    change(meta)
    (folder / "config.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("name", ["../victim", "/tmp/victim", "sub/../../victim", ""])
def test_part_names_cannot_leave_the_folder(ckpt, tmp_path, name):
    shutil.copy(ckpt / "bridge.safetensors", tmp_path / "victim.safetensors")
    _edit(ckpt, lambda m: m["parts"].__setitem__(name, m["parts"].pop("bridge")))
    with pytest.raises(FormatError, match="not a plain name: refused"):
        load_checkpoint(ckpt)


def test_a_symlinked_part_outside_the_folder_is_refused(ckpt, tmp_path):
    shutil.move(ckpt / "bridge.safetensors", tmp_path / "elsewhere.safetensors")
    (ckpt / "bridge.safetensors").symlink_to(tmp_path / "elsewhere.safetensors")
    with pytest.raises(FormatError, match="outside the checkpoint folder"):
        load_checkpoint(ckpt)


def test_forged_sizes_fail_before_allocating(ckpt, monkeypatch):
    """d_model 60000 would allocate ~GBs in MotionEncoder(...): the header check comes first."""
    built = []
    real = MotionEncoder.__init__
    monkeypatch.setattr(MotionEncoder, "__init__", lambda self, c: (built.append(c.d_model), real(self, c))[1])
    _edit(ckpt, lambda m: m["parts"]["encoder"]["config"].__setitem__("d_model", 60000))
    with pytest.raises(FormatError, match=r"input_proj.weight.*shape \(16, 7\) where the config says \(60000, 7\)"):
        load_checkpoint(ckpt)
    assert built == [60000]  # on the meta device only: nothing real was built with the forged size


def test_an_absurd_layer_count_is_refused_without_building(ckpt):
    _edit(ckpt, lambda m: m["parts"]["encoder"]["config"].__setitem__("n_layers", 10**9))
    with pytest.raises(FormatError, match="n_layers.*implausible"):
        load_checkpoint(ckpt)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused_naming_the_tensor(ckpt, value):
    state = load_file(ckpt / "encoder.safetensors")
    state["input_proj.weight"][3, 4] = value
    save_file(state, ckpt / "encoder.safetensors")
    with pytest.raises(FormatError, match="encoder.safetensors: field 'input_proj.weight': holds NaN"):
        load_checkpoint(ckpt)


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda c: (c / "config.json").write_text("{not json"), "not valid JSON"),
        (lambda c: (c / "config.json").write_text("[1, 2]"), "must be a JSON object"),
        (lambda c: (c / "encoder.safetensors").write_bytes(b"\x10" * 64), "not a readable safetensors"),
        (lambda c: _edit(c, lambda m: m["parts"]["encoder"]["config"].__setitem__("bogus", 1)), "does not fit"),
        (lambda c: _edit(c, lambda m: m["parts"]["encoder"].pop("config")), "missing"),
        (lambda c: _edit(c, lambda m: m["parts"]["encoder"].__setitem__("module", "os.system")), "refused"),
    ],
)
def test_damaged_configs_are_format_errors(ckpt, damage, match):
    damage(ckpt)
    with pytest.raises(ValueError, match=match):
        load_checkpoint(ckpt)


def test_the_coach_command_reports_a_damaged_checkpoint_cleanly(tmp_path):
    from musclepose.pipelines.coach import default_checkpoint

    ck = tmp_path / "coach"
    shutil.copytree(default_checkpoint(), ck)
    state = load_file(ck / "bridge.safetensors")
    next(iter(state.values()))[0] = float("nan")
    save_file(state, ck / "bridge.safetensors")
    clip = tmp_path / "clip.json"
    clip.write_text(json.dumps({"trajectory": [1.0, 2.0], "fps": 30}))
    assert_refused(cli("coach", clip, "--checkpoint", ck), "bridge.safetensors", "NaN")


def test_adapter_rank_and_weights_are_checked(tmp_path):
    from musclepose.pipelines.coach import default_checkpoint

    ck = tmp_path / "coach"
    shutil.copytree(default_checkpoint(), ck)
    assert check_adapter(ck) == ck / "adapter"
    cfg = json.loads((ck / "adapter" / "adapter_config.json").read_text())
    (ck / "adapter" / "adapter_config.json").write_text(json.dumps(cfg | {"r": 4000}))
    with pytest.raises(FormatError, match="does not fit rank 4000"):
        check_adapter(ck)
    (ck / "adapter" / "adapter_config.json").write_text(json.dumps(cfg))
    w = load_file(ck / "adapter" / "adapter_model.safetensors")
    next(iter(w.values()))[0, 0] = float("inf")
    save_file(w, ck / "adapter" / "adapter_model.safetensors")
    with pytest.raises(FormatError, match="NaN or infinite"):
        check_adapter(ck)


def test_a_missing_llm_is_a_clear_error_without_any_network(monkeypatch):
    from musclepose.language.backend import LLMConfig, load_llm

    calls = []

    def blocked(*args, **kwargs):
        calls.append(args)
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket, "getaddrinfo", blocked)
    monkeypatch.setattr(socket.socket, "connect", blocked)
    for name in ("microsoft/Phi-3.5-mini-instruct", "/nonexistent/model/folder"):
        with pytest.raises(FileNotFoundError, match="never downloads"):
            load_llm(LLMConfig(name_or_path=name))
    assert calls == []
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
