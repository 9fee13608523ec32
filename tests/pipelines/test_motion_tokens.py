"""The shipped motion tokenizer on a real recording of a person it never saw (AddBiomechanics Expert1, test split)."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

pytest.importorskip("vector_quantize_pytorch")  # the optional "tokens" extra

from musclepose.io import load_motion  # noqa: E402
from musclepose.io.errors import FormatError  # noqa: E402
from musclepose.pipelines.motion_features import joint_error_mm  # noqa: E402
from musclepose.pipelines.motion_tokens import DEFAULT_TOKENIZER, MotionTokenizer  # noqa: E402

# Measured with the shipped checkpoint (see its model card) on these 13 s of squats: global MPJPE
# 508.5 mm (the root path drifts over the clip), root-aligned 116.5 mm. Far from issue 20's 25 mm:
# the bounds guard against regressions, they do not claim the target; ~20 % margin.
GLOBAL_BOUND_MM = 610.0
ROOT_BOUND_MM = 140.0


@pytest.fixture(scope="module")
def tokenizer():
    return MotionTokenizer.from_pretrained()


def test_shipped_tokenizer_reconstructs_a_held_out_real_squat(refdata, tokenizer):
    motion = load_motion(refdata("mocap/addbiomechanics_expert1/squats1.mot"))
    tokens = tokenizer.encode(motion)
    cfg = tokenizer.model.config
    n = int(motion.duration * cfg.fps) // cfg.stride  # tokens of the clip at the tokenizer's rate
    assert tokens.ids.shape[0] in (n, n + 1)
    assert int(tokens.ids.min()) >= 0 and int(tokens.ids.max()) < cfg.codebook_size
    ref, dec = tokenizer.reconstruct(motion)
    assert dec.q.shape == ref.q.shape and bool(torch.isfinite(dec.q).all())
    assert joint_error_mm(ref.body, ref.q, dec.q) < GLOBAL_BOUND_MM
    assert joint_error_mm(ref.body, ref.q, dec.q, root_aligned=True) < ROOT_BOUND_MM


def test_a_checkpoint_with_another_feature_layout_is_refused_naming_the_file(tmp_path):
    folder = tmp_path / "tok"
    shutil.copytree(DEFAULT_TOKENIZER, folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["extra"]["features"]["layout"]["contacts"] = [113, 114]
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(FormatError, match="config.json"):
        MotionTokenizer.from_pretrained(folder)


def test_decoding_refuses_ids_outside_the_codebook(refdata, tokenizer):
    tokens = tokenizer.encode(load_motion(refdata("mocap/addbiomechanics_expert1/walking1.mot")))
    tokens.ids = tokens.ids.clone()
    tokens.ids[0] = tokenizer.model.config.codebook_size
    with pytest.raises(ValueError, match="token ids"):
        tokenizer.decode(tokens)
