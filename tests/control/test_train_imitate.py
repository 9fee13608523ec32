"""``musclepose train imitate``: a tiny PPO run writes a policy folder that loads back without pickle."""

import json

import numpy as np
from safetensors.torch import load_file
from typer.testing import CliRunner

from musclepose.cli import app
from musclepose.control.env import ImitateEnv, standing_motion
from musclepose.io.opensim import write_table
from musclepose.io.opensim.coords import opensim_from_motion
from musclepose.training.imitation import ImitationTrainConfig, train_imitation

runner = CliRunner()


def test_train_imitate_writes_a_loadable_policy(tmp_path, body):
    # A standing reference from a file (gym.make needs a path), written with the io writer.
    cols = opensim_from_motion(standing_motion(body, seconds=2.0), degrees=True)
    ref = tmp_path / "stand.mot"
    write_table(ref, list(cols), np.stack(list(cols.values()), axis=1), in_degrees=True)
    cfg = ImitationTrainConfig(motion=str(ref), out=str(tmp_path / "policy"), total_timesteps=64, n_envs=1,
                               n_steps=64, batch_size=32)  # fmt: skip
    stats = train_imitation(cfg)
    assert stats["timesteps"] >= 64 and stats["samples_per_s"] > 0
    meta = json.loads((tmp_path / "policy" / "config.json").read_text())
    assert meta["train"]["gamma"] == 0.95 and meta["measured"]["timesteps"] == stats["timesteps"]
    state = load_file(tmp_path / "policy" / "policy.safetensors")
    from stable_baselines3 import PPO

    fresh = PPO("MlpPolicy", ImitateEnv(standing_motion(body)), policy_kwargs={"net_arch": [256, 256]}, device="cpu")
    fresh.policy.load_state_dict(state, strict=True)  # same architecture, every tensor present


def test_train_imitate_cli_refuses_a_missing_file(tmp_path):
    r = runner.invoke(app, ["train", "imitate", str(tmp_path / "nope.mot"), "-o", str(tmp_path / "p")])
    assert r.exit_code == 2 and "nope.mot" in r.output


def test_train_imitate_refuses_a_foreign_folder_before_training(refdata, tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("keep me")
    src = refdata("mocap/addbiomechanics_expert1/squats1.mot")
    r = runner.invoke(app, ["train", "imitate", str(src), "-o", str(theirs), "--timesteps", "100000000"])
    assert r.exit_code == 2 and "notes.txt" in r.output and (theirs / "notes.txt").read_text() == "keep me"
