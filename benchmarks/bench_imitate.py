"""Physics-based imitation: SPD tracking of real recordings in MuJoCo, against plain PD in the same run.

Tracks the real squat (squats1.mot, OpenSim IK of 5 bodyweight squats, AddBiomechanics Expert1)
and the MASS walk (walk.bvh) with stable PD (Tan, Liu & Turk 2011) with and without residual
root forces, and with plain PD at the same gains as the baseline; reports joint-angle RMSE
(41 rotational joint DoF, degrees), root residual (N, % body weight, N m), falls and speed
(simulated s per wall s, steps/s; one thread). Writes docs/benchmarks_imitate.md (+ .json)
atomically.

    nice -n 10 .venv/bin/python benchmarks/bench_imitate.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

from musclepose.atomic import atomic_write
from musclepose.control.reference import feedforward_torques
from musclepose.control.tracking import track
from musclepose.io import load_motion

ROOT = Path(__file__).resolve().parents[1]
REFDATA = Path(os.environ.get("MUSCLEPOSE_REFDATA", ROOT.parent / "shared" / "data"))
CLIPS = {
    "squats1 (5 reps)": "mocap/addbiomechanics_expert1/squats1.mot",
    "MASS walk": "mocap/mass/walk.bvh",
    "DeepMimic walk": "mocap/deepmimic/humanoid3d_walk.txt",
}
# (label, controller, residual root, feed-forward, timestep s)
RUNS = (
    ("SPD + residual", "spd", True, False, 0.002),
    ("SPD, no residual", "spd", False, False, 0.002),
    ("PD + residual (baseline)", "pd", True, False, 0.002),
    ("PD, no residual (baseline)", "pd", False, False, 0.002),
    ("SPD + residual, 1 ms step", "spd", True, False, 0.001),
    ("SPD + ID feed-forward + residual", "spd", True, True, 0.002),
)


MOMENT_DOFS = ("hip_flexion_r", "hip_flexion_l", "knee_flexion_r", "knee_flexion_l", "ankle_dorsiflexion_r",
               "ankle_dorsiflexion_l", "lumbar_flexion")  # fmt: skip
ROOT_FREQUENCIES_HZ = (0.5, 1.0, 2.0, 3.0)


def moment_agreement(motion, r) -> dict[str, float]:
    """Pearson r between the simulated joint torques and inverse dynamics (estimated GRF) of the recording."""
    import numpy as np

    tau_id = feedforward_torques(motion, r.ground_shift_m)[: r.torques.shape[0]]
    names = motion.body.dof_names
    return {
        n: round(float(np.corrcoef(r.torques[:, names.index(n)], tau_id[:, names.index(n)])[0, 1]), 3)
        for n in MOMENT_DOFS
    }


def root_gain_sweep(motion) -> list[dict]:
    """SPD + residual on one clip at several root residual frequencies: tracking against residual size."""
    out = []
    for f in ROOT_FREQUENCIES_HZ:
        r = track(motion, residual=True, root_frequency_hz=f)
        extra = {
            "rms_residual_root_moment_nm": round(r.rms_residual_moment_nm, 1),
            "rms_residual_root_force_pct_bw": round(r.rms_residual_force_pct_bw, 1),
        }
        out.append({"root_frequency_hz": f, **r.summary(), **extra})
        print(f"root gains {f} Hz: {out[-1]}", flush=True)
    return out


def run(clips: dict[str, str]) -> list[dict]:
    rows = []
    for clip, rel in clips.items():
        motion = load_motion(REFDATA / rel)
        for label, controller, residual, ff, dt in RUNS:
            t0 = time.perf_counter()
            r = track(motion, controller=controller, residual=residual, feedforward=ff, timestep=dt)
            moments = moment_agreement(motion, r) if label == "SPD + residual" else None
            worst = max(r.rmse_deg_per_dof, key=r.rmse_deg_per_dof.get)
            row = {
                "clip": clip,
                "run": label,
                **r.summary(),
                "rms_residual_root_force_pct_bw": round(r.rms_residual_force_pct_bw, 2),
                "rms_residual_root_moment_nm": round(r.rms_residual_moment_nm, 2),
                "worst_dof": f"{worst} {r.rmse_deg_per_dof[worst]:.1f}",
                "timestep_s": dt,
                "total_wall_s": round(time.perf_counter() - t0, 2),
                "moment_r_vs_inverse_dynamics": moments,
            }
            rows.append(row)
            print(_line(row), flush=True)
    return rows


def env_speed(path: Path, window_s: float = 4.0, repeats: int = 3) -> dict:
    """Samples/s of musclepose/Imitate-v0 on one core, random and zero actions, resets included.

    The best of ``repeats`` windows: the 2 cores are shared, and the best window is the one least
    disturbed by other work.
    """
    import gymnasium as gym
    import numpy as np

    import musclepose.control  # noqa: F401

    env = gym.make("musclepose/Imitate-v0", motion=str(path))
    out = {}
    for name, act in (("random", None), ("zero", np.zeros(41, np.float32))):
        env.reset(seed=0)
        best = 0.0
        for _ in range(repeats):
            n, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < window_s:
                _, _, term, trunc, _ = env.step(env.action_space.sample() if act is None else act)
                n += 1
                if term or trunc:
                    env.reset()
            best = max(best, n / (time.perf_counter() - t0))
        out[name] = {"samples_per_s": round(best, 1)}
    return out


def tracking_speed(motion, repeats: int = 3) -> dict:
    """Best of ``repeats`` SPD + residual runs of ``motion``: steps/s and simulated s per wall s."""
    runs = [track(motion, residual=True) for _ in range(repeats)]
    best = max(runs, key=lambda r: r.steps_per_s)
    return {"steps_per_s": round(best.steps_per_s), "realtime_factor": round(best.realtime_factor, 1)}


def ppo_speed(path: Path, timesteps: int, out: Path) -> dict:
    """A short stable-baselines3 PPO run (one environment, one core) to measure samples/s with updates."""
    from musclepose.training.imitation import ImitationTrainConfig, train_imitation

    cfg = ImitationTrainConfig(motion=str(path), out=str(out), total_timesteps=timesteps, n_envs=1)
    return train_imitation(cfg)


def _line(r: dict) -> str:
    fell = f"fell at {r['fall_time_s']:.2f} s" if r["fell"] else "no"
    if r["diverged"]:
        fell = f"diverged at {r['fall_time_s']:.2f} s"
    res = (
        f"{r['max_residual_root_force_n']:.0f} / {r['rms_residual_root_force_n']:.0f} N "
        f"({r['max_residual_root_force_pct_bw']:.0f} / {r['rms_residual_root_force_pct_bw']:.0f} % BW), "
        f"{r['max_residual_root_moment_nm']:.0f} / {r['rms_residual_root_moment_nm']:.0f} N m"
        if r["residual"]
        else "-"
    )
    return (
        f"| {r['clip']} | {r['run']} | {r['joint_rmse_deg']:.2f} | {r['worst_dof']} | "
        f"{100 * r['root_position_rmse_m']:.1f} | {fell} | {r['simulated_s']:.2f} / {r['duration_s']:.2f} | {res} | "
        f"{r['realtime_factor']:.1f} | {r['steps_per_s']:.0f} |"
    )


HEADER = (
    "| clip | controller | joint RMSE (deg) | worst DoF (deg) | root RMSE (cm) | fell | simulated / reference (s) | "
    "root residual max / rms | sim s per wall s | steps/s |\n|---|---|---|---|---|---|---|---|---|---|"
)


def render(rows: list[dict], command: str, speed: dict, sweep: list[dict]) -> str:
    lines = "\n".join(_line(r) for r in rows)
    env, ppo = speed["env"], speed["ppo"]
    moments = "\n".join(
        f"| {r['clip']} | " + " | ".join(f"{v:.2f}" for v in r["moment_r_vs_inverse_dynamics"].values()) + " |"
        for r in rows
        if r["moment_r_vs_inverse_dynamics"]
    )
    sweep_lines = "\n".join(
        f"| {s['root_frequency_hz']:g} | {s['joint_rmse_deg']:.2f} | {s['root_rotation_rmse_deg']:.1f} | "
        f"{100 * s['root_position_rmse_m']:.1f} | {s['rms_residual_root_force_n']:.0f} "
        f"({s['rms_residual_root_force_pct_bw']:.0f} % BW) | "
        f"{s['rms_residual_root_moment_nm']:.0f} |"
        for s in sweep
    )
    return f"""# Physics-based imitation: SPD tracking in MuJoCo

Produced by `{command}` ({time.strftime("%Y-%m-%d")}, one CPU thread, MuJoCo {_mujoco_version()}).
Body: the recording's own (`load_motion`), 47 DoF, a motor per joint limited to its peak isometric
torque (Hill torque generators), box soles and hand capsules on a floor plane. Gains: peak torque at 10 degrees of
error, critically damped; root residual gains at 1 Hz (musclepose.control.spd). Errors are over the
41 joint DoF at the recording's frame times, up to a fall (pelvis > 0.5 m from the reference).

{HEADER}
{lines}

Simulated joint torques (SPD + residual) against inverse dynamics of the same recording (RNEA with
ground reaction forces estimated from the kinematics, Ren et al. 2008, 6 Hz low-pass), Pearson r over
frames (the issue's target is r >= 0.9):

| clip | {" | ".join(MOMENT_DOFS)} |
|---|{"---|" * len(MOMENT_DOFS)}
{moments}

Root residual gains (SPD + residual on squats1): stiffer roots track better and need more residual.
The default is 1 Hz.

| root gains (Hz) | joint RMSE (deg) | root rot. RMSE (deg) | root RMSE (cm) | rms res. force | rms res. moment (N m) |
|---|---|---|---|---|---|
{sweep_lines}

Speed, best of 3 (one core; the machine's 2 cores were shared with other work, so the per-row
speeds above vary by up to 3x between identical runs): SPD + residual tracking of squats1
{speed["tracking"]["steps_per_s"]} steps/s = {speed["tracking"]["realtime_factor"]} simulated s per wall s.
Environment `musclepose/Imitate-v0` on squats1 (SPD inner loop at 500 Hz, policy at 29.4 Hz):
{env["random"]["samples_per_s"]:.0f} samples/s with random actions, {env["zero"]["samples_per_s"]:.0f} with zero
actions. stable-baselines3 PPO, one environment, {ppo["timesteps"]} samples including its updates:
{ppo["samples_per_s"]:.0f} samples/s (one run). No PPO policy was trained to completion: no imitation
result is claimed for PPO.

Reading it:
- SPD = stable PD (Tan, Liu & Turk 2011); PD = plain explicit PD with the same gains (the baseline).
- The residual is the force on the three root slides (N, % body weight) and the torque on the three
  root hinges (N m); "max / rms" over the simulated frames.
- "no residual" runs have no balance controller: PD tracking of joint angles alone lets the body fall,
  which is what the issue's PPO policy is for. Their RMSE covers only the frames before the fall.
- "diverged": the simulation blew up (MuJoCo reset its state, or joints spun past a full turn); plain
  PD does at these gains, SPD does not (Tan et al. 2011's point).
- The MASS walk is a 1.09 s BVH clip retargeted onto our skeleton (ankles inverted 4-31 degrees
  throughout, thoracic extension 14 degrees past its range): the root residual carries up to 117 % of
  body weight and the simulated leg torques do not follow inverse dynamics (negative r). It is not a
  physically consistent reference for this body; squats1 (OpenSim IK of lab markers) is.
- The DeepMimic walk (humanoid3d_walk.txt, one 1.27 s stride, read by musclepose.io.deepmimic and
  retargeted by IK) needs up to 93 % of body weight of residual too, and its simulated leg torques do
  not follow inverse dynamics: DeepMimic's character (box feet, its own masses) walks it in its own
  simulator, ours is a different body.
- ID feed-forward adds inverse-dynamics torques with GRF estimated from kinematics (Ren et al. 2008);
  it is shown because it does not help here: its estimated centre of pressure differs from where
  MuJoCo's box soles touch, and the ankles roll.
"""


def _mujoco_version() -> str:
    import mujoco

    return mujoco.__version__


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks_imitate.md")
    ap.add_argument("--ppo-timesteps", type=int, default=4096, help="Samples of the PPO speed run.")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    missing = [rel for rel in CLIPS.values() if not (REFDATA / rel).is_file()]
    if missing:
        sys.exit(f"reference data missing under {REFDATA}: {', '.join(missing)}")
    ap_speed = REFDATA / CLIPS["squats1 (5 reps)"]
    print(HEADER)
    rows = run(CLIPS)
    sweep = root_gain_sweep(load_motion(ap_speed))
    speed = {"env": env_speed(ap_speed), "tracking": tracking_speed(load_motion(ap_speed))}
    print(f"env samples/s (one core): {speed['env']}", flush=True)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        speed["ppo"] = ppo_speed(ap_speed, args.ppo_timesteps, Path(tmp) / "policy")
    print(f"PPO (1 env): {speed['ppo']}", flush=True)
    command = "nice -n 10 .venv/bin/python benchmarks/bench_imitate.py"
    with atomic_write(args.out.with_suffix(".json")) as f:
        f.write(json.dumps({"tracking": rows, "root_gain_sweep": sweep, "speed": speed}, indent=1) + "\n")
    with atomic_write(args.out) as f:
        f.write(render(rows, command, speed, sweep))
    return rows


if __name__ == "__main__":
    main()
