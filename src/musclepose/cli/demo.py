"""``musclepose demo``: the best real thing the project does on built-in defaults.

Now: build a standard body, print its segment table, generate a bodyweight squat with the
feet planted, estimate the ground reaction forces that cancel the root residual, run
inverse dynamics (peak hip, knee and ankle moments in N m/kg), and analyse the motion the
way a recording is analysed (reps, depth, tempo, grade).
"""

from __future__ import annotations

import time

import typer
from rich.table import Table

from ..body import Body, inverse_dynamics
from ..body.contact import double_support_grf
from ..sim import squat_motion
from ._common import console, print_json
from .render import segment_table

MOMENTS = (
    ("hip extension", "hip_flexion", -1.0),
    ("knee extension", "knee_flexion", -1.0),
    ("ankle plantarflexion", "ankle_dorsiflexion", -1.0),
    ("lumbar extension", "lumbar_flexion", -1.0),
)


def squat_kinetics(body: Body, reps: int, depth: float) -> dict:
    from ..signals import analyze_motion

    motion = squat_motion(body, reps=reps, depth_deg=depth)
    t0 = time.perf_counter()
    qd, qdd = motion.velocities()
    wrenches, ok = double_support_grf(body, motion.q, qd, qdd)
    tau = inverse_dynamics(body, motion.q, qd, qdd, external=wrenches)
    elapsed = time.perf_counter() - t0
    grf = 2 * wrenches[0].force[:, 1] / (body.mass_kg * 9.81)
    peaks = {}
    for label, dof, sign in MOMENTS:
        for side in ("r", "l") if dof != "lumbar_flexion" else ("",):
            name = f"{dof}_{side}" if side else dof
            x = sign * tau[:, body.dof_index(name)] / body.mass_kg
            peaks[f"{label}{' ' + side.upper() if side else ''}"] = float(x.max())
    return {
        "frames": motion.n_frames,
        "fps": motion.fps,
        "reps": reps,
        "depth_deg": depth,
        "peak_moments_nm_per_kg": peaks,
        "vertical_grf_bw": [float(grf.min()), float(grf.max())],
        "max_root_residual_n": float(tau[:, :3].abs().max()),
        "double_support_valid": bool(ok.all()),
        "physics_ms": 1000 * elapsed,
        "analysis": analyze_motion(motion, exercise="squat").to_dict(),
    }


def demo(
    height: float = typer.Option(1.75, help="Stature in metres."),
    mass: float = typer.Option(70.0, help="Body mass in kg."),
    sex: str = typer.Option("male", help="male or female."),
    reps: int = typer.Option(3, help="Squat repetitions."),
    depth: float = typer.Option(100.0, help="Peak knee flexion in degrees."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Standard body -> segment table -> bodyweight squat -> GRF -> joint moments."""
    body = Body.standard(height, mass, sex)
    result = squat_kinetics(body, reps, depth)
    if json_out:
        print_json({"body": {"height_m": height, "mass_kg": mass, "sex": sex}, "squat": result})
        return
    console.print(segment_table(body))
    t = Table(title=f"Bodyweight squat: {reps} reps to {depth:g} deg knee flexion, {result['frames']} frames")
    t.add_column("peak net joint moment")
    t.add_column("N m/kg", justify="right")
    for k, v in result["peak_moments_nm_per_kg"].items():
        t.add_row(k, f"{v:.2f}")
    console.print(t)
    a = result["analysis"]
    depths = ", ".join(f"{r['depth_knee_flexion_deg']:.0f}" for r in a["reps"])
    console.print(
        f"analysis: {a['n_reps']} reps detected (depth {depths} deg knee flexion), "
        f"tempo {a['tempo']['notation']} (eccentric-bottom-concentric-lockout, s), grade {a['grade']}"
    )
    lo, hi = result["vertical_grf_bw"]
    console.print(
        f"vertical GRF {lo:.2f}-{hi:.2f} body weights, root residual after GRF "
        f"{result['max_root_residual_n']:.1e} N, inverse dynamics of {result['frames']} frames in "
        f"{result['physics_ms']:.0f} ms"
    )
