"""Simulated camera keypoints and lab markers: projection against MuJoCo, occlusion, noise, file round trips."""

from __future__ import annotations

import dataclasses
import math
import xml.etree.ElementTree as ET

import mujoco
import numpy as np
import pytest
import torch

from musclepose.body import forward_kinematics
from musclepose.body.landmarks import COCO17, MEDIAPIPE33, PLUG_IN_GAIT
from musclepose.body.skeleton import PARENTS
from musclepose.io import load_motion
from musclepose.io.keypoints import read_keypoints, write_keypoints
from musclepose.io.opensim import read_trc, write_trc
from musclepose.sim import generate
from musclepose.sim.sensors.camera import (
    PinholeCamera,
    _self_occlusion,
    _sight_distances,
    body_capsules,
    simulate_keypoints,
)
from musclepose.sim.sensors.markers import simulate_markers


def test_projection_matches_mujoco_camprojection(body):
    """Our look-at camera and OpenCV projection equal MuJoCo's camprojection sensor (principal point W/2, H/2)."""
    cam = PinholeCamera.look_at(position=(2.5, 1.4, 1.0), target=(0.0, 0.9, 0.1), width=640, height=480, fov_deg=70)
    cam = dataclasses.replace(cam, cx=cam.width / 2, cy=cam.height / 2)  # MuJoCo's principal point
    root = ET.fromstring(body.to_mjcf())
    bodies = {b.get("name"): b for b in root.iter("body")}
    sensor = ET.SubElement(root, "sensor")
    for n in MEDIAPIPE33:
        seg, p = body.landmarks[n]
        ET.SubElement(bodies[body.segment_names[seg]], "site", name=n, pos=" ".join(map(repr, p.tolist())))
        ET.SubElement(sensor, "camprojection", site=n, camera="cam")
    r = np.array(cam.rotation)  # rows: camera right, down, forward; MuJoCo cameras: x right, y up
    ET.SubElement(
        root.find("worldbody"), "camera", name="cam", pos=" ".join(map(repr, cam.position)),
        xyaxes=" ".join(map(repr, np.concatenate([r[0], -r[1]]).tolist())),
        fovy=repr(math.degrees(2 * math.atan(cam.height / 2 / cam.fy))), resolution=f"{cam.width} {cam.height}",
    )  # fmt: skip
    model = mujoco.MjModel.from_xml_string(ET.tostring(root, encoding="unicode"))
    data = mujoco.MjData(model)
    rng = np.random.default_rng(1)
    q = body.neutral_q().numpy() + np.r_[np.zeros(6), rng.normal(0, 0.3, body.n_dof - 6)]
    data.qpos[:] = q
    mujoco.mj_forward(model, data)
    uv, depth = cam.project(forward_kinematics(body, torch.tensor(q)).landmarks[body.landmark_indices(MEDIAPIPE33)])
    np.testing.assert_allclose(uv.numpy(), data.sensordata.reshape(-1, 2), atol=1e-9)
    assert (depth > 1.0).all()


def test_look_at_orientation_and_intrinsics():
    cam = PinholeCamera.look_at(position=(3.5, 1.0, 0.0), target=(0.0, 1.0, 0.0), width=1280, height=720, fov_deg=60)
    pts = torch.tensor([[0.0, 1.0, 0.0], [0.0, 1.5, 0.0], [0.0, 1.0, 0.5]], dtype=torch.float64)
    uv, depth = cam.project(pts)
    np.testing.assert_allclose(uv[0].numpy(), [639.5, 359.5], atol=1e-9)  # on the optical axis
    assert uv[1, 1] < uv[0, 1]  # up in the world is up (smaller v) in the image
    assert uv[2, 0] < uv[0, 0]  # facing the subject, their right (+Z) appears on the image's left
    assert depth[0].item() == pytest.approx(3.5)
    # Horizontal field of view: the image edge at 30 deg off axis.
    edge = torch.tensor([[0.0, 1.0, -3.5 * math.tan(math.radians(30))]], dtype=torch.float64)
    assert cam.project(edge)[0][0, 0].item() == pytest.approx(1279.5, abs=1e-6)  # right edge of the last pixel
    np.testing.assert_allclose(cam.K, [[cam.fx, 0, 639.5], [0, cam.fy, 359.5], [0, 0, 1]])


def test_self_occlusion_by_view(body):
    q = body.neutral_q()[None]
    front = simulate_keypoints(body, q, PinholeCamera.look_at(position=(3.5, 1.0, 0.0)), generator=0)
    assert not front.occluded.any() and front.in_frame.all()
    side = simulate_keypoints(body, q, PinholeCamera.look_at(position=(0.0, 1.0, 3.5)), generator=0)  # right side
    occ = dict(zip(COCO17, side.occluded[0].tolist(), strict=True))
    for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "eye", "ear"):
        assert occ[f"left_{j}"], j  # the far side is hidden behind the body or the head
    for j in ("shoulder", "elbow", "wrist", "knee", "ankle", "eye", "ear"):
        assert not occ[f"right_{j}"], j
    assert occ["right_hip"]  # behind the hanging right forearm in a side view
    conf = side.confidence[0]
    assert conf[side.occluded[0]].max() < 0.5 < conf[~side.occluded[0]].min()
    seg, a, b, r = body_capsules(body)
    assert len(seg) == len(a) == len(b) == len(r) and (r > 0.02).all() and (r < 0.13).all()


def test_sight_line_distances_equal_a_dense_search():
    """The occlusion test's distances (line of sight to capsule axis, landmark to axis) against the
    minimum over 401 x 401 sampled points of both segments, including a zero-length axis, a landmark
    on an axis and parallel segments."""
    g = torch.Generator().manual_seed(3)
    c = torch.tensor([[3.0, 1.0, 0.5]], dtype=torch.float64)
    p = torch.randn(6, 3, generator=g, dtype=torch.float64) * 0.5
    a = torch.randn(5, 3, generator=g, dtype=torch.float64) * 0.5
    b = a + torch.randn(5, 3, generator=g, dtype=torch.float64) * 0.3
    b[0] = a[0]  # a sphere
    p[1] = a[3] + 0.3 * (b[3] - a[3])  # on an axis
    b[4] = a[4] + (p[2] - c[0])  # parallel to the sight line of landmark 2
    line, point = _sight_distances(c, p, a, b)
    u = torch.linspace(0, 1, 401, dtype=torch.float64)[:, None]
    for k in range(6):
        sight = c + u * (p[k] - c)  # (401, 3)
        for j in range(5):
            axis = a[j] + u * (b[j] - a[j])
            assert float(line[k, j]) == pytest.approx(float(torch.cdist(sight, axis).min()), abs=2e-3)
            assert float(point[k, j]) == pytest.approx(float((axis - p[k]).norm(dim=-1).min()), abs=1e-3)
            assert float(line[k, j]) <= float(torch.cdist(sight, axis).min()) + 1e-6  # a minimum, not above any sample


def test_paired_sight_distances_equal_the_all_pairs_ones():
    g = torch.Generator().manual_seed(4)
    c = torch.tensor([[3.0, 1.0, 0.5]], dtype=torch.float64)
    p = torch.randn(7, 3, generator=g, dtype=torch.float64) * 0.5
    a = torch.randn(7, 3, generator=g, dtype=torch.float64) * 0.5
    b = a + torch.randn(7, 3, generator=g, dtype=torch.float64) * 0.3
    b[2] = a[2]
    line, point = _sight_distances(c, p, a, b)
    pl, pp = _sight_distances(c.expand(7, 3), p, a, b, paired=True)
    assert torch.allclose(pl, line.diagonal(), atol=1e-12) and torch.allclose(pp, point.diagonal(), atol=1e-12)


def test_pruned_self_occlusion_equals_the_exhaustive_test(body):
    """The bounding-sphere filter drops no pair that hides a landmark: the result equals the
    exact test on every landmark-capsule pair, for a squat seen from the side (many occlusions)."""
    m = generate("squat", body, {"reps": 1, "fps": 50.0})
    fk = forward_kinematics(body, m.q)
    idx = body.landmark_indices("coco17")
    centre = torch.tensor([0.3, 1.0, 3.0], dtype=torch.float64)
    got = _self_occlusion(body, fk, idx, centre)
    cap_seg, ca, cb, cr = body_capsules(body)
    rot, org = fk.rotations[:, cap_seg], fk.origins[:, cap_seg]
    a = org + (rot @ torch.as_tensor(ca)[..., None])[..., 0]
    b = org + (rot @ torch.as_tensor(cb)[..., None])[..., 0]
    p = fk.landmarks[:, idx]
    line, point = _sight_distances(centre.expand(len(p), 1, 3), p, a, b)
    r = torch.as_tensor(cr)
    segs = [body.landmarks[body.landmark_names[i]][0] for i in idx]
    foreign = torch.tensor([[cs not in {s, PARENTS[s]} and PARENTS[cs] != s for cs in cap_seg] for s in segs])
    hidden = ((line < r) & (point > r) & foreign).any(-1)
    head = body.segment_index("head")
    body_points = torch.tensor([s != head for s in segs])
    assert hidden[:, body_points].sum() > 20  # the side view does hide landmarks
    assert torch.equal(got[:, body_points], hidden[:, body_points])


def test_out_of_frame_and_behind_camera(body):
    q = body.neutral_q()[None]
    close = PinholeCamera.look_at(position=(1.0, 1.5, 0.0), target=(0.0, 1.5, 0.0))  # feet below the image
    kp = simulate_keypoints(body, q, close, generator=0)
    inside = dict(zip(COCO17, kp.in_frame[0].tolist(), strict=True))
    assert inside["nose"] and not inside["left_ankle"] and not inside["right_knee"]
    assert kp.confidence[0, ~kp.in_frame[0]].max() < 0.2
    behind = PinholeCamera.look_at(position=(0.0, 1.0, 0.0), target=(1.0, 1.0, 0.0))  # inside the body, looking out
    kb = simulate_keypoints(body, q, behind, generator=0)
    back = torch.isnan(kb.pixels[0, :, 0])
    assert back.any() and (kb.confidence[0, back] == 0).all() and not kb.in_frame[0, back].any()


def test_jitter_and_motion_blur(body):
    still = body.neutral_q()[None].expand(400, -1)
    kp = simulate_keypoints(body, still, generator=1, jitter_px=2.0, occlusion=False)
    err = (kp.pixels - kp.true_pixels).reshape(-1)
    assert err.std().item() == pytest.approx(2.0, rel=0.05)
    # Same pose, arms swung fast: the wrists blur and lose confidence, the hips do not.
    t = torch.arange(30, dtype=torch.float64) / 30.0
    q = body.neutral_q().expand(30, -1).clone()
    for s in ("r", "l"):
        q[:, body.dof_index(f"shoulder_flexion_{s}")] = 1.2 * torch.sin(2 * math.pi * 2.0 * t)
    fast = simulate_keypoints(body, q, generator=1, confidence_noise=0.0, occlusion=False)
    wrist, hip = COCO17.index("left_wrist"), COCO17.index("left_hip")
    assert fast.confidence[:, wrist].mean() < 0.6 < 0.9 < fast.confidence[:, hip].min()
    assert (fast.pixels - fast.true_pixels)[:, wrist].std() > 2 * (fast.pixels - fast.true_pixels)[:, hip].std()


def test_keypoint_files_round_trip_and_load_motion(body, tmp_path):
    motion = generate(
        "squat", body, {"reps": 1, "eccentric_s": 0.8, "concentric_s": 0.8, "lead_s": 0.2, "tail_s": 0.2, "fps": 10.0}
    )
    kp = simulate_keypoints(body, motion.q, PinholeCamera.look_at(), layout="mediapipe33", fps=10, generator=0)
    for kind, dims in (("pixels", 2), ("normalized", 2), ("camera", 3)):
        data = kp.to_keypoint_data(kind)
        back = read_keypoints(write_keypoints(tmp_path / f"{kind}.json", data))
        assert back.layout == "mediapipe33" and back.names == MEDIAPIPE33 and back.dims == dims
        assert back.fps == 10.0 and back.image_size == (1280, 720) and back.normalized == (kind == "normalized")
        np.testing.assert_array_equal(back.positions, data.positions)
        np.testing.assert_array_equal(back.confidence, data.confidence)
    px = read_keypoints(tmp_path / "pixels.json").positions
    assert np.nanmin(px) > 0 and np.nanmax(px[..., 0]) < 1280 and np.nanmax(px[..., 1]) < 720
    # 3D camera coordinates lift back to a Motion whose knees follow the simulated squat.
    lifted = load_motion(tmp_path / "camera.json")
    assert lifted.n_frames == motion.n_frames and lifted.fps == 10.0
    for side in ("r", "l"):
        truth = np.degrees(motion.dof(f"knee_flexion_{side}").numpy())
        got = np.degrees(lifted.dof(f"knee_flexion_{side}").numpy())
        assert np.sqrt(np.mean((got - truth) ** 2)) < 8.0 and abs(got.max() - truth.max()) < 10.0


def test_markers_noise_gaps_and_trc(body, tmp_path):
    q = body.neutral_q().expand(3000, -1)
    mk = simulate_markers(body, q, fps=100.0, noise_m=0.001, gap_rate_hz=0.2, mean_gap_s=0.1, generator=2)
    assert mk.names == PLUG_IN_GAIT and mk.positions.shape == (3000, len(PLUG_IN_GAIT), 3)
    missing = torch.isnan(mk.positions[..., 0])
    err = (mk.positions - mk.true_positions)[~missing]
    assert err.std().item() == pytest.approx(0.001, rel=0.05)
    # Expected missing fraction: rate * mean length / (1 + rate * mean length) ~ 2 %.
    assert missing.float().mean().item() == pytest.approx(0.02 / 1.02, rel=0.25)
    starts = (missing[1:] & ~missing[:-1]).sum().item()
    assert missing.sum().item() / max(starts, 1) == pytest.approx(10.0, rel=0.25)  # mean gap, frames
    data = mk.to_marker_data()
    write_trc(tmp_path / "sim.trc", data)
    back = read_trc(tmp_path / "sim.trc")
    assert back.names == list(PLUG_IN_GAIT) and back.fps == 100.0
    np.testing.assert_array_equal(np.isnan(back.positions), np.isnan(data.positions))
    np.testing.assert_allclose(back.positions, data.positions, atol=1e-6, equal_nan=True)
