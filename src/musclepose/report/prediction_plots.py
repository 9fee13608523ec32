"""The figure of a predicted continuation: observed joint angles, then the model's, over time.

Six panels (hip, knee and ankle flexion of both legs, lumbar flexion, shoulder flexion of both
arms, pelvis height): right side in red, left in blue, observed frames solid, predicted frames
dashed, a grey line where the prediction starts. Angles in degrees, time in seconds from the
first frame shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path

__all__ = ["plot_prediction"]

_PANELS = (
    ("hip flexion", "hip_flexion"),
    ("knee flexion", "knee_flexion"),
    ("ankle dorsiflexion", "ankle_dorsiflexion"),
    ("shoulder flexion", "shoulder_flexion"),
    ("lumbar flexion", "lumbar_flexion"),
    ("pelvis height (m)", "pelvis_ty"),
)


def plot_prediction(result: Any, path: str | Path, seconds_shown: float = 3.0) -> Path:
    """Draw a :class:`musclepose.pipelines.predict.PredictResult` (the last ``seconds_shown`` of the
    observed motion and all of the prediction) to a PNG at ``path``; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    obs, pred = result.observed, result.predicted
    body, fps = obs.body, obs.fps
    n_obs = min(obs.n_frames, int(round(seconds_shown * fps)))
    q_obs = obs.q[-n_obs:].detach().double().cpu().numpy()
    q_pred = np.concatenate([q_obs[-1:], pred.q.detach().double().cpu().numpy()])
    t_obs = np.arange(n_obs) / fps
    t_pred = (n_obs - 1 + np.arange(len(q_pred))) / fps
    fig, axes = plt.subplots(3, 2, figsize=(10, 8), sharex=True)
    for ax, (title, dof) in zip(axes.ravel(), _PANELS, strict=True):
        sides = [("", "k")] if dof.startswith(("lumbar", "pelvis")) else [("_r", "tab:red"), ("_l", "tab:blue")]
        for suffix, color in sides:
            j = body.dof_index(dof + suffix)
            scale = 1.0 if dof == "pelvis_ty" else 180.0 / np.pi
            ax.plot(t_obs, q_obs[:, j] * scale, color=color, lw=1.5)
            ax.plot(t_pred, q_pred[:, j] * scale, color=color, lw=1.5, ls="--")
        ax.axvline(t_obs[-1], color="0.6", lw=1)
        ax.set_title(title, fontsize=10)
    for ax in axes[-1]:
        ax.set_xlabel("time (s)")
    fig.suptitle(f"observed (solid) and predicted (dashed, {len(q_pred) - 1} frames at {fps:g} Hz)", fontsize=11)
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=110, format="png")
    finally:
        plt.close(fig)
    return path
