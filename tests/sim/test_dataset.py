"""The synthetic data engine: contact forces balance the body, determinism, HDF5, sharded streaming, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from musclepose.body import Body, inverse_dynamics
from musclepose.body.contact_forces import distribute_contact_forces
from musclepose.catalogue import FAULTS
from musclepose.io.clip import read_clip
from musclepose.io.clip_stream import ClipStream, shard_indices
from musclepose.signals.coaching import numbers_in
from musclepose.sim import GENERATORS, generate
from musclepose.sim.dataset import build_dataset, clip_kinetics


@pytest.mark.parametrize("exercise", ["push_up", "squat", "deadlift", "overhead_press"])
def test_contact_forces_balance_the_root(exercise):
    """With hands and feet known, the contact forces leave no residual (Newton-Euler on the whole body)."""
    body = Body.standard(1.75, 70.0, "male")
    m = generate(exercise, body)
    qd, qdd = m.velocities()
    c = m.metadata["contact"]
    wrenches, forces, residual = distribute_contact_forces(
        body, m.q, qd, qdd, c["segments"], torch.tensor(c["points_local"]), torch.as_tensor(c["planted"])
    )
    assert residual[:, :3].abs().max() < 1.0 and residual[:, 3:].abs().max() < 0.5
    assert (forces[..., 1] >= 0).all()  # the floor pushes, never pulls
    # Independent check: without loads the total vertical force is the weight plus m * a_com, and
    # averaged over a clip that starts and ends at rest it equals the weight.
    assert forces.sum(1)[:, 1].mean() == pytest.approx(body.mass_kg * 9.81, rel=0.01)
    if exercise == "push_up":  # the hands carry a share of the weight
        hands = [k for k, s in enumerate(c["segments"]) if s.startswith("hand")]
        assert forces[:, hands, 1].sum(1).mean() > 0.4 * body.mass_kg * 9.81


def test_contact_forces_with_tau_equal_inverse_dynamics_with_every_wrench():
    """The moments returned with the contact forces (one RNEA pass, external parts added by
    linearity) equal a fresh inverse dynamics with the load and the contact wrenches, and the
    residual left equals that call's root residual."""
    body = Body.standard(1.75, 70.0, "male")
    m = generate("deadlift", body, {"load_kg": 60.0})
    qd, qdd = m.velocities()
    c = m.metadata["contact"]
    from musclepose.body import root_residual
    from musclepose.sim.clip import _load_wrenches

    ext = _load_wrenches(m)
    assert ext
    wrenches, _, residual, tau = distribute_contact_forces(
        body,
        m.q,
        qd,
        qdd,
        c["segments"],
        torch.tensor(c["points_local"]),
        torch.as_tensor(c["planted"]),
        ext,
        return_tau=True,
    )
    ref = inverse_dynamics(body, m.q, qd, qdd, [*ext, *wrenches])
    assert torch.allclose(tau, ref, atol=1e-8, rtol=0)
    f, mom = root_residual(body, m.q, ref)
    assert torch.allclose(residual, torch.cat([f, mom], -1), atol=1e-8, rtol=0)
    free = inverse_dynamics(body, m.q, qd, qdd)  # given by the caller: the same result
    again = distribute_contact_forces(
        body, m.q, qd, qdd, c["segments"], torch.tensor(c["points_local"]), torch.as_tensor(c["planted"]), ext,
        return_tau=True, without_external=free,
    )  # fmt: skip
    assert torch.equal(again[3], tau) and torch.equal(again[2], residual)


def test_clip_kinetics_with_a_load_matches_inverse_dynamics():
    body = Body.standard(1.75, 70.0, "male")
    m = generate("squat", body, {"load_kg": 40.0, "load_position": "back"})
    kin = clip_kinetics(m)
    assert np.abs(kin.residual_force[kin.supported]).max() < 2.0
    # The feet carry the body and the bar: 110 kg on average.
    total = kin.grf["foot_r"][:, 1] + kin.grf["foot_l"][:, 1]
    assert total.mean() == pytest.approx(110.0 * 9.81, rel=0.01)
    qd, qdd = m.velocities()
    tau = inverse_dynamics(body, m.q, qd, qdd)
    assert not torch.allclose(tau[:, 6:], kin.tau[:, 6:])  # the load changes the joint moments


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("sim")
    out, clips = root / "d.h5", root / "clips"
    summary = build_dataset(out, 6, seed=3, exercises=["squat", "push_up"], fault_rate=1.0, duration_s=4.0,
                            workers=1, clips_dir=clips)  # fmt: skip
    return out, clips, summary


def test_dataset_is_deterministic_and_labelled(dataset, tmp_path):
    out, clips, summary = dataset
    assert summary["n"] == 6 and sum(summary["splits"].values()) == 6
    again = tmp_path / "again.h5"
    # Two worker processes (forked here) make the same clips as one process.
    build_dataset(
        again, 3, seed=3, exercises=["squat", "push_up"], fault_rate=1.0, duration_s=4.0, workers=2, shard_size=1
    )
    a, b = list(ClipStream(out, split=None, shuffle_seed=None)), list(ClipStream(again, split=None, shuffle_seed=None))
    for x, y in zip(a[:3], b, strict=True):
        assert torch.equal(x["q"], y["q"]) and torch.equal(x["imu_acc"].nan_to_num(), y["imu_acc"].nan_to_num())
        assert x["labels"]["language"] == y["labels"]["language"]
    for item in a:
        lab = item["labels"]
        assert lab["exercise"] in ("squat", "push_up") and lab["faults"]
        for name, f in lab["faults"].items():
            assert name in FAULTS and 0.2 <= f["severity"] <= 1.0
        t = item["q"].shape[0]
        assert item["tau"].shape == (t, 47) and item["activations"].shape == (t, 82)
        assert item["imu_acc"].shape == (t, 2, 3) and item["keypoints"].shape == (t, 17, 3)
        assert item["channels"].shape == (t, 7)
        assert lab["residual_max_n"] < 10.0  # N, where a contact is planted (the floor cannot pull)
        # The coach states only numbers of the clip's own labels.
        allowed = {str(lab["n_reps"])} | set(numbers_in(json.dumps(lab["faults"]))) | set(numbers_in(json.dumps(lab)))
        assert numbers_in(lab["language"]) <= allowed
    files = sorted(clips.glob("*.json"))
    assert len(files) == 6
    c = read_clip(files[0])
    assert c.language and c.n_frames == a[0]["q"].shape[0]


def test_spawned_workers_make_the_same_clips(dataset, tmp_path, monkeypatch):
    """With another thread running (e.g. a progress bar's), the workers are spawned, not forked."""
    import musclepose.sim.workers as workers

    out, _, _ = dataset
    monkeypatch.setattr(workers.threading, "active_count", lambda: 2)
    methods, get_context = [], workers.mp.get_context
    monkeypatch.setattr(workers.mp, "get_context", lambda m: methods.append(m) or get_context(m))
    again = tmp_path / "spawned.h5"
    build_dataset(
        again, 2, seed=3, exercises=["squat", "push_up"], fault_rate=1.0, duration_s=4.0, workers=2, shard_size=1
    )
    assert methods == ["spawn"]
    a, b = list(ClipStream(out, split=None, shuffle_seed=None)), list(ClipStream(again, split=None, shuffle_seed=None))
    for x, y in zip(a[:2], b, strict=True):
        assert torch.equal(x["q"], y["q"]) and torch.equal(x["keypoints"].nan_to_num(), y["keypoints"].nan_to_num())


def test_splits_are_by_subject(dataset):
    out, _, _ = dataset
    seen: dict[str, str] = {}
    for item in ClipStream(out, split=None):
        lab = item["labels"]
        assert seen.setdefault(lab["subject"], lab["split"]) == lab["split"]


def test_shards_are_disjoint_and_cover_the_split():
    items = list(range(103))
    shards = [shard_indices(items, r, 2, w, 3, seed=7, epoch=1) for r in range(2) for w in range(3)]
    flat = [i for s in shards for i in s]
    assert sorted(flat) == items and len(set(flat)) == len(flat)
    assert shard_indices(items, 0, 2, 0, 3, seed=7, epoch=1) != shard_indices(items, 0, 2, 0, 3, seed=7, epoch=2)


def test_stream_with_dataloader_workers(dataset):
    out, _, _ = dataset
    stream = ClipStream(out, split=None, arrays=["tau"])
    loader = torch.utils.data.DataLoader(stream, batch_size=None, num_workers=2)
    got = sorted(item["index"] for item in loader)
    assert got == list(range(6))


def test_cli_simulate_and_bad_fault(tmp_path):
    from typer.testing import CliRunner

    from musclepose.cli import app

    runner = CliRunner()
    out = tmp_path / "s.h5"
    args = ["simulate", "--exercise", "squat", "--faults", "knee_valgus,shallow_depth", "--n", "2", "--duration", "3"]
    r = runner.invoke(app, [*args, "--workers", "1", "--out", str(out), "--seed", "0", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["exercises"] == {"squat": 2} and out.exists()
    r = runner.invoke(app, ["simulate", "--faults", "wings", "--n", "1", "--out", str(tmp_path / "x.h5")])
    assert r.exit_code == 2 and "wings" in r.output


def test_every_simulated_fault_has_coaching():
    assert {f for s in GENERATORS.values() for f in s.faults} <= set(FAULTS)
