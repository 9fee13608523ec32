"""Walking or running, named from the motion: the thresholds of ``pipelines.recognize.gait_kind``.

    python benchmarks/validate_gait_words.py      # ~3 minutes on 2 cores

The thresholds (median horizontal pelvis speed, share of frames with both feet off the floor) were
chosen on the CMU motion-prediction training files ``*_1`` and ``*_2``; this scores them on
``*_3`` to ``*_5`` of each action (never looked at while choosing) and on the other real clips in
``../shared/data/mocap`` that are walks or runs. ``describe`` and ``analyze`` word the unknown-exercise
reason with it. Baseline: what was said before, "locomotion" without a kind (0 % named).
Writes docs/validation_gait.md.
"""

from __future__ import annotations

import os
from pathlib import Path

from musclepose.io.load import load_motion
from musclepose.pipelines.recognize import gait_kind

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MUSCLEPOSE_REFDATA", ROOT.parent / "shared" / "data")) / "mocap"
# file -> the kind a person would name ("" for neither walking nor running)
EXPECTED = {
    **{f"cmu_prediction/train/walking/walking_{k}.txt": "walking" for k in (3, 4, 5)},
    **{f"cmu_prediction/train/running/running_{k}.txt": "running" for k in (3, 4, 5)},
    **{f"cmu_prediction/train/jumping/jumping_{k}.txt": "" for k in (3, 4, 5)},
    **{f"cmu_prediction/train/soccer/soccer_{k}.txt": "" for k in (3, 4, 5)},
    **{f"cmu_prediction/train/basketball/basketball_{k}.txt": "" for k in (3, 4, 5)},
    "addbiomechanics_expert1/walking1.mot": "walking",
    "addbiomechanics_expert1/squats1.mot": "",
    "cmu/131_01.bvh": "walking",
    "mass/walk.bvh": "walking",
    "mass/run.bvh": "running",
    "deepmimic/humanoid3d_walk.txt": "walking",
    "deepmimic/humanoid3d_run.txt": "running",
    "deepmimic/humanoid3d_jog.txt": "running",
}


def main() -> None:
    rows = []
    for rel, want in EXPECTED.items():
        kind, speed, flight = gait_kind(load_motion(DATA / rel, fps=30))
        rows.append((rel, want, kind, speed, flight))
        print(rows[-1], flush=True)
    named = [r for r in rows if r[2]]
    wanted = [r for r in rows if r[1]]
    lines = [
        "# Walking or running, named from the motion",
        "",
        "`python benchmarks/validate_gait_words.py`. Thresholds (`musclepose.pipelines.recognize`): running = "
        "median pelvis speed >= 2.0 m/s and both feet off the floor >= 20 % of frames; walking = 0.4-2.0 m/s "
        "and < 10 %. Chosen on the CMU prediction files `*_1`, `*_2`; scored here on `*_3`-`*_5` and the other "
        "real walks and runs. Basketball clips (dribbling on the move) and soccer clips count as neither. "
        "Baseline: the previous wording, 'locomotion' with no kind (nothing named).",
        "",
        "| file | a person would say | named | pelvis speed m/s | flight |",
        "|---|---|---|---:|---:|",
        *[f"| {r} | {w or 'neither'} | {k or '-'} | {v:.2f} | {100 * f:.0f} % |" for r, w, k, v, f in rows],
        "",
        f"- Named right when named (precision): {sum(r[1] == r[2] for r in named)} of {len(named)}; "
        f"walks and runs named (recall): {sum(r[1] == r[2] for r in wanted)} of {len(wanted)}.",
        "- Misses: walks whose contact estimate puts both feet off the floor a sixth to a third of the time "
        "(CMU walking_4 and _5, MASS walk) or that are slow (CMU 131_01 starts and stops) are not named; "
        "walking while dribbling (basketball) is named walking.",
        "",
    ]
    out = ROOT / "docs" / "validation_gait.md"
    out.write_text("\n".join(lines))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
