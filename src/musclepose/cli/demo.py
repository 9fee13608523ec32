"""``musclepose demo``: the best real thing the project does on built-in defaults.

Now: build a standard body, print its segment table, generate a bodyweight squat with the
feet planted, estimate the ground reactions from the kinematics (contact, friction cone,
split of the root residual), run inverse dynamics and static optimisation of the Hill-type
torque generators (peak moments in N m/kg, peak activations), and analyse the motion the
way a recording is analysed (reps, depth, tempo, grade, kinetics per repetition).
"""

from __future__ import annotations

import time

import typer
from rich.table import Table

from ..body import Body
from ..sim import squat_motion
from ._common import console, print_json
from .render import kinetics_tables, segment_table

MOMENTS = (
    ("hip extension", "hip_flexion", -1.0),
    ("knee extension", "knee_flexion", -1.0),
    ("ankle plantarflexion", "ankle_dorsiflexion", -1.0),
    ("lumbar extension", "lumbar_flexion", -1.0),
)


def squat_kinetics(body: Body, reps: int, depth: float) -> dict:
    from ..motion.kinetics import compute_kinetics
    from ..signals import analyze_motion

    motion = squat_motion(body, reps=reps, depth_deg=depth)
    t0 = time.perf_counter()
    kin = compute_kinetics(motion, cutoff_hz=None)  # synthetic: exact, nothing to filter
    elapsed = time.perf_counter() - t0
    grf = sum(g[:, 1] for g in kin.grf.values()) / (body.mass_kg * 9.81)
    peaks = {}
    for label, dof, sign in MOMENTS:
        for side in ("r", "l") if dof != "lumbar_flexion" else ("",):
            name = f"{dof}_{side}" if side else dof
            peaks[f"{label}{' ' + side.upper() if side else ''}"] = float((sign * kin.moment(name)).max())
    return {
        "frames": motion.n_frames,
        "fps": motion.fps,
        "reps": reps,
        "depth_deg": depth,
        "peak_moments_nm_per_kg": peaks,
        "vertical_grf_bw": [float(grf.min()), float(grf.max())],
        "max_root_residual_n": float(abs(kin.residual_force).max()),
        "max_unexplained_muscle_moment_nm": float(abs(kin.muscle_residual).max()),
        "physics_ms": 1000 * elapsed,
        "analysis": analyze_motion(motion, exercise="squat", kinetics=kin).to_dict(),
    }


def demo(
    height: float = typer.Option(1.75, help="Stature in metres."),
    mass: float = typer.Option(70.0, help="Body mass in kg."),
    sex: str = typer.Option("male", help="male or female."),
    reps: int = typer.Option(3, help="Squat repetitions."),
    depth: float = typer.Option(100.0, help="Peak knee flexion in degrees."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Standard body -> segment table -> bodyweight squat -> GRF -> joint moments -> muscle activations."""
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
    for table in kinetics_tables(a["kinetics"]):
        console.print(table)
    depths = ", ".join(f"{r['depth_knee_flexion_deg']:.0f}" for r in a["reps"])
    console.print(
        f"analysis: {a['n_reps']} reps detected (depth {depths} deg knee flexion), "
        f"tempo {a['tempo']['notation']} (eccentric-bottom-concentric-lockout, s), grade {a['grade']}"
    )
    lo, hi = result["vertical_grf_bw"]
    console.print(
        f"vertical GRF {lo:.2f}-{hi:.2f} body weights, root residual after GRF "
        f"{result['max_root_residual_n']:.1e} N, moment the muscles cannot supply "
        f"{result['max_unexplained_muscle_moment_nm']:.1e} N m; GRF, inverse dynamics and static optimisation of "
        f"{result['frames']} frames in {result['physics_ms']:.0f} ms"
    )
