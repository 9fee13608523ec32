"""Data loss: a command replaces only a folder it wrote itself.

Reported: ``train coach --out DIR`` on a folder of the user's files exited 0 and left only
checkpoint files; ``train export-coach SRC DST`` with DST the parent of SRC deleted a sibling
run and the source. Each case is reproduced on real folders and every file is checked after.
"""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from musclepose import atomic
from musclepose.models import BridgeConfig, EncoderConfig, MotionEncoder, PhysicsBridge
from musclepose.pipelines.checkpoint import load_checkpoint
from musclepose.training import save_checkpoint

from .conftest import assert_refused, cli, leftovers


def _user_folder(path):
    path.mkdir(parents=True)
    (path / "thesis.tex").write_text("three years of work")
    (path / "data").mkdir()
    (path / "data" / "trial.c3d").write_bytes(b"\x00" * 100)
    return {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def _same(path, files):
    return {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()} == files


def _parts():
    torch.manual_seed(0)
    return {
        "encoder": MotionEncoder(EncoderConfig(d_model=16, n_layers=1, n_heads=2, ff_hidden=32)),
        "bridge": PhysicsBridge(BridgeConfig(d_model=16, ff_hidden=32, llm_hidden=24, embedding_scale=0.14)),
    }


def test_train_coach_refuses_a_folder_of_user_files(tmp_path):
    out = tmp_path / "mine"
    files = _user_folder(out)
    data = tmp_path / "d.h5"
    data.write_bytes(b"never read: the output is checked first")
    run = cli("train", "coach", "--data", data, "--out", out, "--lm-epochs", "0")
    assert_refused(run, "mine", "did not write", "--overwrite")
    assert _same(out, files)


def test_save_checkpoint_replaces_its_own_folder_only(tmp_path):
    folder = save_checkpoint(tmp_path / "run", _parts(), extra={"step": 1})
    save_checkpoint(folder, _parts(), extra={"step": 2})  # its own: replaced
    assert load_checkpoint(folder)[1] == {"step": 2}
    (folder / "notes.txt").write_text("the user's")
    with pytest.raises(atomic.ForeignFolderError, match="notes.txt"):
        save_checkpoint(folder, _parts(), extra={"step": 3})
    assert (folder / "notes.txt").read_text() == "the user's" and load_checkpoint(folder)[1] == {"step": 2}
    save_checkpoint(folder, _parts(), extra={"step": 4}, overwrite=True)  # asked for
    assert not (folder / "notes.txt").exists() and leftovers(tmp_path) == []


def test_a_checkpoint_written_before_manifests_is_still_ours(tmp_path):
    folder = save_checkpoint(tmp_path / "old", _parts())
    (folder / atomic.MANIFEST).unlink()
    save_checkpoint(folder, _parts(), extra={"step": 9})
    assert load_checkpoint(folder)[1] == {"step": 9}


@pytest.fixture(scope="module")
def shipped_copy(tmp_path_factory):
    from musclepose.pipelines.coach import default_checkpoint

    src = tmp_path_factory.mktemp("runs") / "coach"
    shutil.copytree(default_checkpoint(), src)
    return src


def test_export_coach_never_deletes_the_source_or_its_siblings(shipped_copy, tmp_path):
    runs = shipped_copy.parent
    sibling = runs / "sibling_run"
    files = _user_folder(sibling)
    before = sorted(p.name for p in shipped_copy.iterdir())
    for dst in (runs, shipped_copy, shipped_copy / "inside"):
        assert_refused(cli("train", "export-coach", shipped_copy, dst), str(dst))
    assert _same(sibling, files) and sorted(p.name for p in shipped_copy.iterdir()) == before


@pytest.mark.faults_slow
def test_export_coach_replaces_its_own_export_but_not_a_user_folder(shipped_copy, tmp_path):
    dst = tmp_path / "ship"
    assert cli("train", "export-coach", shipped_copy, dst).code == 0
    from safetensors import safe_open

    with safe_open(str(dst / "encoder.safetensors"), framework="pt") as f:
        assert f.get_tensor("input_proj.weight").dtype == torch.float16  # the shipped form
    assert set(load_checkpoint(dst)[0]) == {"encoder", "bridge"}
    assert cli("train", "export-coach", shipped_copy, dst).code == 0  # its own export: replaced
    mine = tmp_path / "mine"
    files = _user_folder(mine)
    assert_refused(cli("train", "export-coach", shipped_copy, mine), "mine", "did not write", "--overwrite")
    assert _same(mine, files)
    # The shipped folder holds a model card a person wrote: not replaced without --overwrite.
    card = dst / "MODEL_CARD.md"
    card.write_text("# written by a person")
    assert_refused(cli("train", "export-coach", shipped_copy, dst), "MODEL_CARD.md")
    assert card.read_text() == "# written by a person"
    assert cli("train", "export-coach", shipped_copy, dst, "--overwrite").code == 0
    assert not card.exists() and leftovers(tmp_path) == []
    manifest = json.loads((dst / atomic.MANIFEST).read_text())
    assert "encoder.safetensors" in manifest["files"] and "adapter/adapter_model.safetensors" in manifest["files"]


def test_never_the_working_folder_or_home(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(IsADirectoryError, match="working folder"):
        atomic.check_replaceable_dir(tmp_path, overwrite=True)
    with pytest.raises(IsADirectoryError, match="working folder"):
        atomic.check_replaceable_dir(tmp_path.parent, overwrite=True)
