"""``musclepose imitate --muscles static|nn``: activations and unsupplied torque of the simulated squat."""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from musclepose.body.muscles import mtg_parameters, muscle_torque, static_optimization
from musclepose.cli import app
from musclepose.control.muscles import muscle_demand
from musclepose.io import load_motion

from ._squat import squat_excerpt_mot

runner = CliRunner()


@pytest.fixture(scope="module")
def squat_excerpt(refdata, tmp_path_factory):
    """The first second of the real squat (OpenSim IK), written back as a .mot for the CLI to read."""
    return squat_excerpt_mot(
        refdata("mocap/addbiomechanics_expert1/squats1.mot"), tmp_path_factory.mktemp("imitate_muscles"), 100
    )


def test_imitate_json_carries_activations_and_unsupplied_torque(squat_excerpt, tmp_path):
    out = {}
    for method in ("static", "nn"):
        path = tmp_path / f"{method}.json"
        r = runner.invoke(app, ["imitate", str(squat_excerpt), "--muscles", method, "-o", str(path), "--json"])
        assert r.exit_code == 0, r.output
        info = json.loads(r.stdout)
        assert info["muscles"] == method and 0.0 <= info["mean_activation"] <= 1.0
        assert len(info["unsupplied_torque_nm"]) == 41 and info["max_unsupplied_torque_nm"] >= 0.0
        assert all(0.0 <= v <= 1.0 for v in info["peak_activations"].values())
        doc = json.loads(path.read_text())
        a = np.asarray(doc["activations"])
        assert a.shape == (doc["frames"], 82) and len(doc["generator_names"]) == 82
        assert np.asarray(doc["unsupplied_torque_per_frame_nm"]).shape == (doc["frames"], 41)
        out[method] = a
    # the same SPD torques (deterministic simulation): the two methods agree as the benchmark measured
    assert np.abs(out["nn"] - out["static"]).mean() < 0.03
    r = runner.invoke(app, ["imitate", str(squat_excerpt), "--muscles", "qp"])
    assert r.exit_code == 2 and "--muscles" in r.output


def test_unsupplied_torque_is_what_the_muscles_leave_over(refdata):
    motion = load_motion(refdata("mocap/addbiomechanics_expert1/squats1.mot"))[0:50]
    q = motion.q.double()
    qd = motion.velocity().double()
    tau = torch.zeros_like(q)
    tau[:, 6:] = 400.0 * torch.sin(torch.arange(41.0))  # far beyond some generators' capacity
    d = muscle_demand(motion.body, q, qd, tau, "static")
    params = mtg_parameters(motion.body)
    so = static_optimization(params, q, qd, tau)
    assert np.allclose(d.activations, so.activations.numpy())
    made = muscle_torque(params, q, qd, torch.as_tensor(d.activations)).numpy()
    assert np.allclose(made + d.unsupplied_nm, tau[:, 6:].numpy(), atol=1e-9)
    assert np.abs(d.unsupplied_nm).max() > 100.0  # saturation shows as unsupplied torque
    with pytest.raises(ValueError, match="needs a MuscleNN"):
        muscle_demand(motion.body, q, qd, tau, "nn")
