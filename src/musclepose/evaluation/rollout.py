"""Rollout evaluation: the CMU motion-prediction benchmark's protocol, baselines, the seed criterion.

The protocol is the benchmark's own (Li et al. 2018's CMU evaluation as released with DMGNN,
Li et al. 2020, ``srnn_sample`` and the test loop): per action, the file ``<action>_1.txt``,
every 2nd frame; 8 windows whose starts are drawn by ``numpy.random.RandomState(1234567890)``
(``randint(0, T - 75)``, one generator per action); the first 50 frames are the seed, the next
25 the target. The error of frame ``k`` is the Euclidean norm, over the scored Euler angles, of
prediction minus truth, where each joint's exponential map is turned into a rotation matrix and
then into the benchmark's Euler angles (:func:`benchmark_euler`); scored are the columns of
:data:`~musclepose.io.cmu_prediction.DIM_TO_USE` that vary in the training data and within the
window's 25 target frames (the benchmark's ``idx_to_use``); averaged over the 8 windows and
reported at frames 2, 4, 8, 10, 14, 25 ("80, 160, 320, 400, 560, 1000 ms" in the benchmark's
40 ms per frame; the files are 120 Hz, so these are 33-417 ms of real time). MPJPE is the mean
joint distance (mm) of the benchmark's forward kinematics with the root at the origin.

Predictors are functions ``seed rows (N, 50, 117) -> predicted rows (N, H, 117)``: the model
(:class:`musclepose.pipelines.predict.MotionPredictor`), :func:`zero_velocity` (the last seed
frame repeated) and :func:`constant_velocity` (each joint keeps turning with its last
frame-to-frame rotation). :func:`rollout_ratio` is the seed criterion: the error after 60
autoregressive steps over the error after one, on every window of held-out files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..body.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from ..io import cmu_prediction as cmu

__all__ = [
    "HORIZON_FRAMES",
    "HORIZONS_MS",
    "benchmark_euler",
    "benchmark_windows",
    "constant_velocity",
    "evaluate_benchmark",
    "mean_angle_error",
    "rollout_ratio",
    "zero_velocity",
]

Predictor = Callable[[np.ndarray, int], np.ndarray]
SEED, SOURCE, TARGET, N_WINDOWS = 1234567890, 50, 25, 8
HORIZON_FRAMES = (2, 4, 8, 10, 14, 25)  # 1-based frames after the seed
HORIZONS_MS = tuple(int(cmu.FRAME_MS * k) for k in HORIZON_FRAMES)


def benchmark_euler(rows: np.ndarray) -> np.ndarray:
    """The benchmark's Euler angles ``(..., 117)`` of rows: each exponential map -> matrix ->
    ``rotmat2euler`` (``e2 = -asin(R02)``, ``e1 = atan2(R12, R22)``, ``e3 = atan2(R01, R00)``;
    at ``R02 = +-1``: ``e3 = 0``, ``e1 = atan2(R01, R02) -+ ...`` as in its code); root position
    columns left as they are."""
    x = np.asarray(rows, dtype=np.float64)
    r = axis_angle_to_matrix(torch.as_tensor(x[..., 3:].reshape(*x.shape[:-1], cmu.N_JOINTS, 3))).numpy()
    r02 = r[..., 0, 2]
    e2 = -np.arcsin(np.clip(r02, -1.0, 1.0))
    e1 = np.arctan2(r[..., 1, 2], r[..., 2, 2])
    e3 = np.arctan2(r[..., 0, 1], r[..., 0, 0])
    # The benchmark divides both atan2 arguments by cos(e2) >= 0, which leaves them unchanged;
    # its gimbal branch (exactly +-1) is reproduced for completeness.
    dlta = np.arctan2(r[..., 0, 1], r02)
    lock = np.abs(r02) == 1.0
    e1 = np.where(lock, dlta, e1)
    e2 = np.where(lock, np.where(r02 == -1.0, np.pi / 2, -np.pi / 2), e2)
    e3 = np.where(lock, 0.0, e3)
    out = x.copy()
    out[..., 3:] = np.stack([e1, e2, e3], axis=-1).reshape(*x.shape[:-1], -1)
    return out


def mean_angle_error(pred: np.ndarray, true: np.ndarray, dims: np.ndarray | None = None) -> np.ndarray:
    """Per-frame benchmark error ``(..., H)`` of predicted vs true rows ``(..., H, 117)``.

    ``dims``: the scorable columns (default :data:`DIM_TO_USE`); within each window only those
    whose true Euler angle varies over the window (std > 1e-4) count, as in the benchmark.
    """
    dims = cmu.DIM_TO_USE if dims is None else np.asarray(dims)
    ep, et = benchmark_euler(pred)[..., dims], benchmark_euler(true)[..., dims]
    moving = et.std(axis=-2, keepdims=True) > 1e-4
    return np.sqrt((((et - ep) ** 2) * moving).sum(-1))


def mpjpe_mm(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Mean per-joint position error ``(..., H)`` in mm of the benchmark's forward kinematics (root at the origin)."""
    pp, pt = cmu.forward_kinematics(pred), cmu.forward_kinematics(true)
    return np.linalg.norm(pp - pt, axis=-1).mean(-1) * cmu.UNIT_M * 1000.0


def benchmark_windows(rows: np.ndarray, n: int = N_WINDOWS, seed: int = SEED) -> list[int]:
    """Window starts the benchmark draws in the (downsampled) rows of one action's file."""
    rng = np.random.RandomState(seed)
    t = len(rows)
    if t <= SOURCE + TARGET:
        raise ValueError(f"{t} frames after downsampling; the protocol needs more than {SOURCE + TARGET}")
    return [int(rng.randint(0, t - SOURCE - TARGET)) for _ in range(n)]


def zero_velocity(seed: np.ndarray, steps: int) -> np.ndarray:
    """The last seed row, ``steps`` times."""
    return np.repeat(np.asarray(seed)[..., -1:, :], steps, axis=-2)


def constant_velocity(seed: np.ndarray, steps: int) -> np.ndarray:
    """Each joint keeps its last frame-to-frame rotation ``D = R_t R_(t-1)^T``: ``R_(t+k) = D^k R_t``;
    the root position keeps its last step."""
    seed = np.asarray(seed, dtype=np.float64)
    last, prev = seed[..., -1, :], seed[..., -2, :]
    shape = last.shape[:-1] + (cmu.N_JOINTS, 3)
    rl = axis_angle_to_matrix(torch.as_tensor(last[..., 3:].reshape(shape)))
    rp = axis_angle_to_matrix(torch.as_tensor(prev[..., 3:].reshape(shape)))
    w = matrix_to_axis_angle(rl @ rp.transpose(-1, -2))
    out = np.empty(last.shape[:-1] + (steps, cmu.N_COLUMNS))
    for k in range(1, steps + 1):
        r = axis_angle_to_matrix(w * k) @ rl
        out[..., k - 1, 3:] = matrix_to_axis_angle(r).numpy().reshape(*last.shape[:-1], -1)
        out[..., k - 1, :3] = last[..., :3] + k * (last[..., :3] - prev[..., :3])
    return out


def _downsampled(path: Path) -> np.ndarray:
    return cmu.read_cmu_prediction(path)[:: cmu.DOWNSAMPLE]


def evaluate_benchmark(
    folder: str | Path,
    predictors: Mapping[str, Predictor],
    dims: np.ndarray | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The benchmark's test protocol on ``folder`` (laid out like the benchmark) for every predictor.

    Returns ``{"horizons_ms", "horizon_frames", "mean_angle_error": {name: [...]},
    "mpjpe_mm": {name: [...]}, "per_action": {action: {"mean_angle_error": {name: [...]},
    "mpjpe_mm": {...}, "file", "windows"}}}``; the overall numbers average the actions.
    """
    files = cmu.find_files(folder, first_only=True)
    per_action: dict[str, Any] = {}
    idx = np.asarray(HORIZON_FRAMES) - 1
    for action, (path,) in files.items():
        if progress is not None:
            progress(action)
        rows = _downsampled(path)
        starts = benchmark_windows(rows)
        win = np.stack([rows[s : s + SOURCE + TARGET] for s in starts])
        seed, truth = win[:, :SOURCE], win[:, SOURCE:]
        mae, mpj = {}, {}
        for name, f in predictors.items():
            pred = f(seed, TARGET)
            mae[name] = mean_angle_error(pred, truth, dims).mean(0)[idx].tolist()
            mpj[name] = mpjpe_mm(pred, truth).mean(0)[idx].tolist()
        per_action[action] = {"file": str(path), "windows": starts, "mean_angle_error": mae, "mpjpe_mm": mpj}
    names = list(predictors)
    return {
        "horizons_ms": list(HORIZONS_MS),
        "horizon_frames": list(HORIZON_FRAMES),
        "mean_angle_error": {
            n: np.mean([a["mean_angle_error"][n] for a in per_action.values()], 0).tolist() for n in names
        },
        "mpjpe_mm": {n: np.mean([a["mpjpe_mm"][n] for a in per_action.values()], 0).tolist() for n in names},
        "per_action": per_action,
    }


def rollout_ratio(
    folder: str | Path, predictor: Predictor, steps: int = 60, stride: int = 10, dims: np.ndarray | None = None
) -> dict[str, Any]:
    """The seed criterion on every ``<action>_1.txt`` of ``folder``: error after ``steps`` autoregressive
    steps over the error after one step, windows every ``stride`` frames (50 seed frames each).

    Returns ``{"ratio", "error_1", "error_<steps>", "windows", "files"}`` (benchmark mean angle
    error; files too short for one window are skipped).
    """
    files = cmu.find_files(folder, first_only=True)
    wins, used = [], []
    for (path,) in files.values():
        rows = _downsampled(path)
        starts = list(range(0, len(rows) - SOURCE - steps + 1, stride))
        if starts:
            used.append(str(path))
            wins += [rows[s : s + SOURCE + steps] for s in starts]
    if not wins:
        raise ValueError(f"{folder}: no file has {SOURCE + steps} frames after downsampling")
    win = np.stack(wins)
    pred = predictor(win[:, :SOURCE], steps)
    err = mean_angle_error(pred, win[:, SOURCE:], dims).mean(0)
    return {
        "ratio": float(err[-1] / err[0]),
        "error_1": float(err[0]),
        f"error_{steps}": float(err[-1]),
        "windows": len(wins),
        "files": used,
    }


#: Published results of the benchmark's best methods, as numbers verified in the papers' text.
#: None could be verified from the reference corpora available to this project (their tables
#: were not reachable), so none is listed rather than quoting numbers from memory.
PUBLISHED: dict[str, Any] = {
    "verified": [],
    "note": "no published CMU mean-angle-error table could be verified from the papers' text here "
    "(DMGNN, Li et al. CVPR 2020, Table 3; LTD, Mao et al. ICCV 2019; MST-GNN, Li et al. TIP 2021)",
}


def evaluate_rollout(
    folder: str | Path,
    predictors: Mapping[str, Predictor],
    steps: int = 60,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """:func:`evaluate_benchmark` plus :func:`rollout_ratio` of every predictor, in one report.

    ``rollout_60_over_1`` is the ratio of the predictor named ``"model"`` (None without one).
    """
    bench = evaluate_benchmark(folder, predictors, progress=progress)
    if progress is not None:
        progress(f"{steps}-step rollouts")
    ro = {name: rollout_ratio(folder, f, steps) for name, f in predictors.items()}
    return {
        "horizons_ms": bench["horizons_ms"],
        "horizon_frames": bench["horizon_frames"],
        "frame_ms_label": cmu.FRAME_MS,
        "frame_ms_real": 1000.0 * cmu.DOWNSAMPLE / cmu.FILE_FPS,
        "mean_angle_error": bench["mean_angle_error"],
        "mpjpe_mm": bench["mpjpe_mm"],
        "per_action": bench["per_action"],
        "rollout_60_over_1": ro["model"]["ratio"] if "model" in ro else None,
        "rollout": {"steps": steps, **ro},
        "published": PUBLISHED,
    }


def render_markdown(r: Mapping[str, Any]) -> str:
    """A Markdown report of :func:`evaluate_rollout`'s result (with ``command`` and ``data`` added)."""
    ms = r["horizons_ms"]
    head = "| predictor | " + " | ".join(f"{m} ms" for m in ms) + " |\n|---|" + "---:|" * len(ms)

    def rows(table: Mapping[str, list[float]], fmt: str) -> list[str]:
        return [f"| {n} | " + " | ".join(format(x, fmt) for x in v) + " |" for n, v in table.items()]

    out = [
        "# Rollout evaluation: CMU motion-prediction benchmark",
        "",
        f"Command: `{r.get('command', '')}` on `{r.get('data', '')}` ({r.get('seconds', 0.0):.0f} s). Protocol: "
        "each action's `<action>_1.txt`, every 2nd frame, the benchmark's 8 windows (seed 1234567890), 50 seed "
        f"frames, 25 predicted. Horizons are the benchmark's labels ({r['frame_ms_label']:g} ms per frame); "
        f"the files are 120 Hz, so one frame is {r['frame_ms_real']:.1f} ms of real time.",
        "",
        "## Mean angle error (benchmark Euler angles, average over actions)",
        "",
        head,
        *rows(r["mean_angle_error"], ".3f"),
        "",
        "## MPJPE (mm, root at the origin)",
        "",
        head,
        *rows(r["mpjpe_mm"], ".1f"),
        "",
        "## Per action (mean angle error)",
        "",
    ]
    for action, a in r["per_action"].items():
        out += [f"### {action}", "", head, *rows(a["mean_angle_error"], ".3f"), ""]
    ro = r["rollout"]
    last = f"error_{ro['steps']}"
    out += [
        f"## Seed criterion: error after {ro['steps']} autoregressive steps over the error after one",
        "",
        "| predictor | error 1 step | error after the last | ratio | windows |",
        "|---|---:|---:|---:|---:|",
        *[
            f"| {n} | {v['error_1']:.3f} | {v[last]:.3f} | {v['ratio']:.2f} | {v['windows']} |"
            for n, v in ro.items()
            if isinstance(v, dict)
        ],
        "",
        f"Published numbers: {r['published']['note']}.",
    ]
    return "\n".join(out) + "\n"
