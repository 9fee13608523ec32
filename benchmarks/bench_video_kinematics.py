"""Kinematics from video against mocap: real recordings rendered through the camera model and fitted back.

Each recording (OpenCap ``squats1`` and ``walking1`` as OpenSim solved them (``.mot``), mapped onto our
body) is seen by the project's pinhole camera (:func:`musclepose.sim.sensors.camera.simulate_keypoints`:
MediaPipe-33 or COCO-17 landmarks, 2 px jitter, 2 cm depth noise, self-occlusion, confidence) from the
side and from 45 deg in front, at 30 frames/s and 640x480, and fitted back by
:func:`musclepose.motion.video_fit.fit_camera_keypoints`:

- ``mediapipe 3-D + 2-D``: the pixels and the metric root-relative landmarks (what MediaPipe gives);
- ``coco17 2-D``: pixels alone (MoveNet / OpenPose output);
- baseline ``3-D keypoint IK``: the same noisy landmarks in the camera frame, but with the camera's pose
  known (no camera model to find, no floor to find): :func:`~musclepose.motion.keypoint_ik.keypoint_ik`
  on true-scale points, the best a 3-D fitter can do with these detections.

Joint-angle RMSE (deg) against the recording per sagittal DoF (goal <= 8 deg hip/knee/ankle), over all
frames. Usage: ``python benchmarks/bench_video_kinematics.py [--out docs/validation_video_kinematics.md]``
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from musclepose.io import load_motion
from musclepose.io.atomic import atomic_write
from musclepose.motion.keypoint_ik import keypoint_ik
from musclepose.motion.video_fit import KeypointTrack, compute_threads, fit_camera_keypoints
from musclepose.sim.sensors.camera import PinholeCamera, simulate_keypoints

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MUSCLEPOSE_REFDATA", ROOT.parent / "shared" / "data"))
DOFS = ("hip_flexion_r", "hip_flexion_l", "knee_flexion_r", "knee_flexion_l", "ankle_dorsiflexion_r",
        "ankle_dorsiflexion_l")  # fmt: skip
RECORDINGS = {
    "squats1 (OpenCap, OpenSim IK)": "mocap/addbiomechanics_expert1/squats1.mot",
    "walking1 (OpenCap, OpenSim IK)": "mocap/addbiomechanics_expert1/walking1.mot",
}


def cameras(centre: np.ndarray) -> dict[str, PinholeCamera]:
    """A side camera and one 45 deg in front, 3.5 m away at chest height, aimed at the subject's mean position."""
    c = centre
    return {
        "side": PinholeCamera.look_at((c[0], 1.2, c[2] + 3.5), (c[0], 0.9, c[2]), width=640, height=480),
        "front 45 deg": PinholeCamera.look_at((c[0] + 2.5, 1.2, c[2] + 2.5), (c[0], 0.9, c[2]), width=640, height=480),
    }


def rmse(q: np.ndarray, qt: np.ndarray, body, dofs=DOFS) -> dict[str, float]:
    n = min(len(q), len(qt))
    return {d: float(np.degrees(np.sqrt(np.mean((q[:n, body.dof_index(d)] - qt[:n, body.dof_index(d)]) ** 2))))
            for d in dofs}  # fmt: skip


def run(out: Path, max_frames: int) -> list[dict]:
    rows = []
    for name, rel in RECORDINGS.items():
        truth = load_motion(DATA / rel).resampled(30.0)
        truth = truth[: min(truth.n_frames, max_frames)]
        body = truth.body
        centre = truth.q[:, :3].numpy().mean(0)
        for cam_name, cam in cameras(centre).items():
            for layout, mode in (
                ("mediapipe33", "mediapipe 3-D + 2-D"),
                ("coco17", "coco17 2-D"),
                ("mediapipe33", "3-D keypoint IK (camera known)"),
            ):
                kp = simulate_keypoints(body, truth.q, cam, layout=layout, fps=30.0, generator=0)
                xyz = kp.camera_xyz.numpy().astype(float)
                names = kp.names
                t0 = time.perf_counter()
                if mode.startswith("3-D"):
                    # Back to the world with the known camera pose; low-confidence points missing.
                    r = np.array(cam.rotation)
                    world = xyz @ r + np.array(cam.position)
                    world[kp.confidence.numpy() < 0.3] = np.nan
                    with compute_threads(1):
                        m = keypoint_ik(names, world, 30.0, body=body, scale=False, floor=False)
                    q = m.q.numpy()
                else:
                    hips = 0.5 * (xyz[:, names.index("left_hip")] + xyz[:, names.index("right_hip")])
                    track = KeypointTrack(
                        names, np.arange(truth.n_frames) / 30.0, kp.confidence.numpy().astype(float),
                        pixels=kp.pixels.numpy().astype(float),
                        world=(xyz - hips[:, None]) if layout == "mediapipe33" else None, image_size=cam.image_size,
                    )  # fmt: skip
                    fit = fit_camera_keypoints(track, height_m=body.height_m, mass_kg=body.mass_kg, focal_px=cam.fx)
                    q = fit.motion.q.numpy()
                seconds = time.perf_counter() - t0
                err = rmse(q, truth.q.numpy(), body)
                rows.append({"recording": name, "camera": cam_name, "input": mode, "frames": truth.n_frames,
                             "seconds": seconds, **err})  # fmt: skip
                print(name, cam_name, mode, f"{seconds:.1f}s", {k: round(v, 1) for k, v in err.items()}, flush=True)
    write(out, rows, max_frames)
    return rows


def write(out: Path, rows: list[dict], max_frames: int) -> None:
    head = "| recording | camera | input | frames | " + " | ".join(d.replace("_", " ") for d in DOFS) + " | s |"
    lines = [
        "# Kinematics from video against mocap",
        "",
        f"Written by `python benchmarks/bench_video_kinematics.py --max-frames {max_frames}` (module docstring: "
        "recordings, cameras, inputs).",
        "Joint-angle RMSE in degrees against the recording, every frame at 30 Hz; goal <= 8 deg for hip, knee",
        "and ankle in the sagittal plane. `3-D keypoint IK (camera known)` is the baseline: the same noisy",
        "landmarks with the camera's pose given.",
        "",
        head,
        "|" + "---|" * (5 + len(DOFS)),
    ]
    for r in rows:
        cells = " | ".join(f"{r[d]:.1f}" for d in DOFS)
        lines.append(
            f"| {r['recording']} | {r['camera']} | {r['input']} | {r['frames']} | {cells} | {r['seconds']:.1f} |"
        )
    lines += ["", f"Load average while it ran: {os.getloadavg()[0]:.1f} (2 cores, shared).", ""]
    with atomic_write(out, mode="w") as f:
        f.write("\n".join(lines))
    print(f"wrote {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "validation_video_kinematics.md")
    ap.add_argument("--max-frames", type=int, default=450, help="frames per recording (30 Hz)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    run(args.out, args.max_frames)


if __name__ == "__main__":
    main()
