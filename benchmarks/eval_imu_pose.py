"""Pose from IMUs on held-out data: the HDT against its CNN-only ablation and nearest-neighbour retrieval.

Test split of the corpus (``musclepose.sim.imu_corpus``): the real recordings of subjects in no
training split (AddBiomechanics Expert1 squats and walking, CMU subject 131, UI-PRMD subject s01)
and synthetic clips of held-out synthetic subjects, for the six-IMU and phone + watch layouts,
with the worn-sensor error model drawn from a fixed seed. Also: exercise recognition of the HDT's
"what" head on the synthetic test clips (clip = the mean of its frames' probabilities), the
calibration before and after the interval recalibration
(``scripts/recalibrate_imu_pose.py``). Writes docs/evaluation_imu_pose.md (+ .json)
and docs/figures/imu_pose_uncertainty.png.

    python benchmarks/eval_imu_pose.py --corpus runs/imu_pose_corpus.pt [--synthetic 24]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from musclepose.body.skeleton import SEGMENTS
from musclepose.evaluation.imu_pose import evaluate_sequence, merge
from musclepose.pipelines.imu_features import LAYOUTS, MODEL_FPS, SLOT_SEGMENTS, SLOTS, imu_features, pose_targets
from musclepose.pipelines.imu_nn import NNIndex
from musclepose.pipelines.imu_pose import SIGMA_TO_DEG, IMUPoseModel, default_imu_checkpoint
from musclepose.sim.imu_corpus import EXERCISE_NAMES, load_corpus
from musclepose.sim.sensors.imu_worn import worn_imu_errors

ROOT = Path(__file__).resolve().parents[1]


def _exercise_accuracy(model: IMUPoseModel, seqs, layout: str, seed: int) -> dict:
    present = torch.tensor([s in LAYOUTS[layout] for s in SLOTS])[None]
    hit = n = 0
    for i, seq in enumerate(seqs):
        if seq.exercise < 0:
            continue
        g = torch.Generator().manual_seed(seed + i)
        seg = seq.rot[:, [SEGMENTS.index(s) for s in SLOT_SEGMENTS]][None]
        rot, acc = worn_imu_errors(seg, seq.srot[0][None], seq.acc[0][None], g, present)
        x, _ = imu_features(rot, acc, present)
        probs = torch.softmax(model.predict_features(x[0])[4], -1).mean(0)
        hit += int(int(probs.argmax()) == seq.exercise)
        n += 1
    return {"clips": n, "accuracy": hit / max(n, 1), "labels": list(EXERCISE_NAMES)}


def _figure(model: IMUPoseModel, seq, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from musclepose.body.rotations import matrix_to_euler_zxy, rotation_6d_to_matrix

    present = torch.tensor([s in LAYOUTS["six"] for s in SLOTS])[None]
    g = torch.Generator().manual_seed(0)
    seg = seq.rot[:, [SEGMENTS.index(s) for s in SLOT_SEGMENTS]][None]
    rot, acc = worn_imu_errors(seg, seq.srot[0][None], seq.acc[0][None], g, present)
    x, yaw = imu_features(rot, acc, present)
    out = model.predict_features(x[0])
    true6, _ = pose_targets(seq.rot, seq.root, yaw[0], MODEL_FPS)
    t = np.arange(seq.n_frames) / MODEL_FPS
    fig, axes = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    for ax, (name, j) in zip(axes, (("knee flexion (right)", SEGMENTS.index("shank_r")),
                                    ("hip flexion (right)", SEGMENTS.index("thigh_r"))), strict=True):  # fmt: skip
        pred = -torch.rad2deg(matrix_to_euler_zxy(rotation_6d_to_matrix(out[0][:, j]))[:, 0]).numpy()
        true = -torch.rad2deg(matrix_to_euler_zxy(rotation_6d_to_matrix(true6[:, j]))[:, 0]).numpy()
        if "hip" in name:
            pred, true = -pred, -true
        sd = (torch.exp(0.5 * out[1][:, j]) * model.temperature * SIGMA_TO_DEG).numpy()
        two = model.calibration.two_sigma
        ax.fill_between(t, pred - two * sd, pred + two * sd, color="tab:blue", alpha=0.15, label="95 % (±2σ)")
        ax.fill_between(t, pred - sd, pred + sd, color="tab:blue", alpha=0.3, label="±1σ")
        ax.plot(t, true, "k", lw=1.2, label="truth (mocap)")
        ax.plot(t, pred, "tab:blue", lw=1.0, label="HDT")
        ax.set_ylabel(f"{name}, deg")
    axes[0].legend(loc="upper right", ncol=4, fontsize=8)
    axes[-1].set_xlabel("s")
    axes[0].set_title(f"{seq.name}: six IMUs, the HDT's pose with its calibrated uncertainty")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--checkpoint", type=Path, default=default_imu_checkpoint())
    ap.add_argument("--synthetic", type=int, default=24, help="synthetic test clips used (of held-out subjects)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "evaluation_imu_pose.md")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--render", action="store_true", help="only rewrite the Markdown from the JSON beside it")
    a = ap.parse_args()
    if a.render:
        a.out.write_text(render(json.loads(a.out.with_suffix(".json").read_text())))
        return
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    seqs, _ = load_corpus(a.corpus)
    test = [s for s in seqs if s.split == "test"]
    real = [s for s in test if s.source != "musclepose.sim"]
    syn = [s for s in test if s.source == "musclepose.sim"][: a.synthetic]
    models = {"shipped": IMUPoseModel.load(a.checkpoint)}
    for sub in sorted(p for p in a.checkpoint.iterdir() if (p / "config.json").is_file()):
        models[sub.name] = IMUPoseModel.load(sub)
    nn = NNIndex.load(a.checkpoint)
    raw = {"shipped": IMUPoseModel.load(a.checkpoint)}
    raw["shipped"].temperature = 1.0
    before = (models["shipped"].extra.get("calibration", {}).get("info") or {}).get("temperature_before")
    if before is not None:  # the way it was calibrated before: one likelihood temperature
        raw["likelihood"] = IMUPoseModel.load(a.checkpoint)
        raw["likelihood"].temperature = before
    doc: dict = {"command": " ".join(sys.argv), "checkpoint": str(a.checkpoint), "results": {}}
    for layout in ("six", "phone-watch"):
        for group, items in (("real", real), ("synthetic", syn)):
            if not items:
                continue
            parts, uncal = [], []
            for i, seq in enumerate(items):
                res = evaluate_sequence(seq, layout, models, nn, seed=a.seed + i)
                parts.append((res, seq.n_frames))
                u = evaluate_sequence(seq, layout, raw, None, seed=a.seed + i)
                uncal.append((u, seq.n_frames))
                print(f"{layout} {group} {seq.name}: {res['shipped']['mpjpe_cm']:.2f} cm", flush=True)
            m = merge(parts)
            u = merge(uncal)
            m["shipped_before_temperature"] = u["shipped"]
            if "likelihood" in u:
                m["shipped_likelihood_temperature"] = u["likelihood"]
            doc["results"][f"{layout}/{group}"] = m
            doc["results"][f"{layout}/{group}"]["per_recording"] = {
                seq.name: {
                    k: r["shipped"][k] for k in ("mpjpe_cm", "rotation_error_deg", "coverage_1sigma", "coverage_2sigma")
                }  # fmt: skip
                for seq, (r, _) in zip(items, parts, strict=True)
            }
    doc["exercise"] = {
        f"{name}/{lay}": _exercise_accuracy(m, syn, lay, a.seed) for name, m in models.items() for lay in LAYOUTS
    }
    squat = next((s for s in real if s.name == "squats1"), (real or syn)[0])
    fig = a.out.parent / "figures" / "imu_pose_uncertainty.png"
    _figure(models["shipped"], squat, fig)
    doc["figure"] = str(fig.relative_to(ROOT)) if fig.is_relative_to(ROOT) else str(fig)
    doc["seconds"] = time.perf_counter() - t0
    doc["temperature"] = models["shipped"].temperature
    doc["two_sigma"] = models["shipped"].calibration.two_sigma
    doc["temperature_before"] = before
    c = models["shipped"].model.config
    doc["shipped"] = f"{'CNN only' if c.n_layers == 0 else f'{c.n_layers} transformer layers'}, window {c.window}"
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.with_suffix(".json").write_text(json.dumps(doc, indent=2, default=float) + "\n")
    a.out.write_text(render(doc))
    print(f"wrote {a.out} in {doc['seconds']:.0f} s")


def render(doc: dict) -> str:
    lines = ["# Pose from IMUs: evaluation", "", f"Command: `{doc['command']}` ({doc['seconds']:.0f} s, one thread). "
             f"Checkpoint `{doc['checkpoint']}` (reported σ = the network's × {doc['temperature']:.3f}; 95 % "
             f"interval {doc.get('two_sigma', 2.0):.2f} σ wide; calibration: "
             "[imu_pose_calibration.md](imu_pose_calibration.md)).", ""]  # fmt: skip
    names = {
        "shipped": f"shipped: {doc.get('shipped', '')}",
        "hdt_transformer": "HDT with its transformer",
        "baseline_cnn": "HDT without transformer (CNN only)",
        "nearest_neighbour": "nearest-neighbour retrieval",
        "shipped_before_temperature": "shipped, uncalibrated (the network's σ)",
        "shipped_likelihood_temperature": "shipped, one likelihood temperature (before: × "
        f"{doc.get('temperature_before') or 0:.3f})",
    }
    for key, res in doc["results"].items():
        layout, group = key.split("/")
        frames = res["shipped"]["frames"]
        head = "| model | MPJPE cm | joint rotation deg | global rotation deg | jitter m/s³ (truth) | 1σ | 2σ | ECE |"
        lines += [f"## {layout}, {group} test recordings ({frames} frames at 30 Hz)", "", head,
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
        rows = ("shipped", "hdt_transformer", "baseline_cnn", "nearest_neighbour")
        for name in (*rows, "shipped_likelihood_temperature", "shipped_before_temperature"):
            if name not in res:
                continue
            m = res[name]
            cov = (f"{100 * m['coverage_1sigma']:.1f} % | {100 * m['coverage_2sigma']:.1f} % | {m['ece']:.3f}"
                   if "coverage_1sigma" in m else "- | - | -")  # fmt: skip
            lines.append(f"| {names[name]} | {m['mpjpe_cm']:.2f} | {m['rotation_error_deg']:.1f} | "
                         f"{m['global_rotation_error_deg']:.1f} | {m.get('jitter_m_s3', float('nan')):.0f} "
                         f"({m.get('jitter_true_m_s3', float('nan')):.0f}) | {cov} |")  # fmt: skip
        per = res.get("per_recording", {})
        if per and group == "real":
            each = [f"{k} {v['mpjpe_cm']:.1f} cm / {v['rotation_error_deg']:.1f}°"
                    + (f" / {100 * v['coverage_1sigma']:.0f} % / {100 * v['coverage_2sigma']:.0f} %"
                       if "coverage_1sigma" in v else "")
                    for k, v in per.items()]  # fmt: skip
            lines += ["", "Per recording (shipped, MPJPE / joint rotation / 1σ / 2σ coverage): " + "; ".join(each)]
        lines.append("")
    lines += ["## Exercise recognition (the 'what' head, clips of held-out synthetic subjects)", ""]
    for key, e in doc["exercise"].items():
        lines.append(f"- {key}: {100 * e['accuracy']:.1f} % of {e['clips']} clips")
    fig = doc["figure"]
    fig = str(Path(fig).relative_to("docs")) if fig.startswith("docs") else fig
    lines += ["", f"![uncertainty bands]({fig})", ""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
