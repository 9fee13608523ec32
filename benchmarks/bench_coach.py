"""Latency of the coach on a 10-second clip, warm, with the rule-based coach and MuJoCo beside it.

Rows (median of ``--repeat`` warm runs, the shipped checkpoint, this machine):

- physics of a 10-s clip (1,000 frames at 100 Hz): the kinetic chain
  (``compute_kinetics``: ground reactions estimated from the motion, inverse dynamics, static
  optimisation) plus the encoder and the PhysicsBridge's physics (inverse dynamics and torque
  generators on the encoder's predicted motion). Peer: MuJoCo's ``mj_inverse`` frame by frame
  on the same 1,000 frames (inverse dynamics alone);
- the LLM's text: tokens per second of greedy decoding with the soft-token prefix;
- ``CoachModel.coach`` end to end (analysis, kinetics, encoder, bridge, LLM) with the model
  loaded, against the rule-based coach writing from the same facts;
- ``musclepose coach clip.json`` as a new process (imports, model load from the cache, run).

Usage: ``python benchmarks/bench_coach.py [--repeat 3] [--out docs/benchmarks_coach.md]``
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from musclepose.body import Body
from musclepose.io.atomic import atomic_write
from musclepose.motion.kinetics import compute_kinetics
from musclepose.pipelines.coach import CoachModel
from musclepose.sim import generate

ROOT = Path(__file__).resolve().parents[1]


def _median(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def _mujoco(body: Body, kin, n: int) -> float:
    import mujoco

    model = mujoco.MjModel.from_xml_string(body.to_mjcf())
    data = mujoco.MjData(model)
    q, qd, qdd = (x[:n].numpy() for x in (kin.motion.q, kin.qd, kin.qdd))
    t0 = time.perf_counter()
    for t in range(n):
        data.qpos[:], data.qvel[:], data.qacc[:] = q[t], qd[t], qdd[t]
        mujoco.mj_inverse(model, data)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks_coach.md")
    args = ap.parse_args()

    body = Body.standard(1.75, 70.0, "male")
    motion = generate("squat", body, {"reps": 4}, faults={"heel_lift": {"severity": 0.8}}, rng=3)
    motion = motion[: min(motion.n_frames, 1000)]
    assert motion.fps == 100.0
    model = CoachModel.load()
    from musclepose.io.clip import CLIP_CHANNELS
    from musclepose.pipelines.coach_inputs import ENCODER_FPS, encoder_inputs, keypoints_from_motion
    from musclepose.pipelines.coach_physics import bridge_inputs
    from musclepose.signals.waves import run_analysis

    run = run_analysis(motion, exercise="squat")
    channels = np.stack([run.channels[c] for c in CLIP_CHANNELS], 1)
    kp = keypoints_from_motion(motion)
    info = {"height_m": body.height_m, "mass_kg": body.mass_kg, "sex": body.sex}

    def physics():
        kin = compute_kinetics(motion)
        with torch.no_grad():
            x = encoder_inputs(channels[::5], kp[::5])
            out = model.encoder(x[None], ENCODER_FPS)
            bridge_inputs(out, 0, x.shape[0], info, model._bodies)
        return kin

    physics()
    t_phys, kin = _median(physics, args.repeat)
    t_mj = _mujoco(body, kin, motion.n_frames)
    model.coach(motion, "squat", kinetics=kin, max_new_tokens=8)  # warm-up
    t_coach, result = _median(lambda: model.coach(motion, "squat"), args.repeat)
    n_tokens = len(model.llm.tokenizer(result.text, add_special_tokens=False)["input_ids"])
    t_llm = result.timings_s["llm"]
    from musclepose.language.coach import faults_mentioned, target_text

    # The longest common case: two faults, two paragraphs (the text is about twice as long).
    two = generate("squat", body, {"reps": 4}, faults={"heel_lift": {"severity": 0.8}, "knee_valgus":
                   {"severity": 0.8}}, rng=3)[:1000]  # fmt: skip
    model.coach(two, "squat", max_new_tokens=8)
    t_two, result_two = _median(lambda: model.coach(two, "squat"), args.repeat)
    n_two = len(model.llm.tokenizer(result_two.text, add_special_tokens=False)["input_ids"])
    found_two = ", ".join(f.name for f in result_two.faults) or "none"
    named_two = ", ".join(sorted(faults_mentioned(result_two.text))) or "none"
    detected = {f.name: {"severity": f.severity, "side": f.side} for f in result.faults}
    t_rule, _ = _median(lambda: target_text(result.summary, detected, 0), max(args.repeat, 10))

    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.json"
        doc = {c: channels[:, i].tolist() for i, c in enumerate(CLIP_CHANNELS)}
        doc |= {"fps": 100.0, "n_frames": len(channels), "exercise": "squat"}
        clip.write_text(json.dumps(doc))
        exe = Path(sys.executable).with_name("musclepose")
        t0 = time.perf_counter()
        proc = subprocess.run([str(exe), "coach", str(clip), "--json"], capture_output=True, text=True)
        t_cli = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)

    rows = [
        ("physics of a 10-s clip (kinetic chain + encoder + bridge physics)", f"{1000 * t_phys:.0f} ms", "< 100 ms"),
        ("  peer: MuJoCo mj_inverse, 1,000 frames one by one", f"{1000 * t_mj:.0f} ms", ""),
        (f"LLM text ({n_tokens} tokens, greedy, soft tokens)", f"{t_llm:.2f} s ({n_tokens / t_llm:.1f} tokens/s)", ""),
        ("CoachModel.coach end to end, warm", f"{t_coach:.2f} s", "< 10 s"),
        (
            f"  the same, a squat with two faults ({n_two} tokens; screen: {found_two}; text names: {named_two})",
            f"{t_two:.2f} s",
            "< 10 s",
        ),
        ("  peer: rule-based coach on the same facts", f"{1000 * t_rule:.2f} ms", ""),
        ("`musclepose coach clip.json` as a new process (cold)", f"{t_cli:.1f} s", ""),
    ]
    lines = [
        "# Coach latency",
        "",
        f"`python benchmarks/bench_coach.py` on {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}; shipped checkpoint, a generated "
        "10-s squat with heel lift; median of "
        f"{args.repeat} warm runs.",
        "",
        "| what | time | target |",
        "|---|---:|---:|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
        f"Coaching text of the timed run: {result.text}",
        "",
        f"Two faults: {result_two.text}",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.out) as fh:
        fh.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
