"""Figures of kinetics over the normalised repetition cycle: moments, ground reactions, activations.

Each figure shows the mean over repetitions (line) and ± one standard deviation (band), right
side in red and left in blue, against 0-100 % of the repetition.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import atomic_path

__all__ = ["plot_cycle_curves"]

_SIDE = {"r": ("tab:red", "right"), "l": ("tab:blue", "left")}
_TITLES = {
    "hip_flexion": "hip (+ flexor)",
    "knee_flexion": "knee (+ flexor)",
    "ankle_dorsiflexion": "ankle (+ dorsiflexor)",
    "lumbar_flexion": "lumbar (+ flexor)",
}


def _band(ax, x, curves, color, label):
    m, s = curves.mean(0), curves.std(0)
    ax.plot(x, m, color=color, lw=1.6, label=label)
    if len(curves) > 1:
        ax.fill_between(x, m - s, m + s, color=color, alpha=0.2, lw=0)


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.tight_layout()
        with atomic_path(path) as tmp:  # a full disk leaves no partial PNG
            fig.savefig(tmp, dpi=110, format="png")
    finally:
        plt.close(fig)
    return path


def plot_cycle_curves(curves: dict, out_dir: str | Path, title: str = "") -> list[Path]:
    """Write ``moments.png``, ``grf.png`` and (with activations) ``activations.png`` into ``out_dir``.

    ``curves`` from :func:`musclepose.signals.rep_kinetics.cycle_curves`. Returns the paths.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    paths = []
    n = next(iter(curves["grf"].values())).shape[1]
    x = np.linspace(0, 100, n)
    reps = next(iter(curves["grf"].values())).shape[0]
    suffix = f" — mean ± sd of {reps} repetition{'s' if reps != 1 else ''}" if reps else ""

    joints = ["hip_flexion", "knee_flexion", "ankle_dorsiflexion"]
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
    for ax, j in zip(axes, [*joints, "lumbar_flexion"], strict=True):
        if j == "lumbar_flexion":
            _band(ax, x, curves["moment"][j], "0.3", "trunk")
        else:
            for s, (color, label) in _SIDE.items():
                _band(ax, x, curves["moment"][f"{j}_{s}"], color, label)
        ax.axhline(0, color="0.7", lw=0.8)
        ax.set_title(_TITLES[j], fontsize=9)
        ax.set_xlabel("% of repetition", fontsize=8)
        ax.set_ylabel("moment (N·m/kg)", fontsize=8)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Joint moments{suffix}{(' — ' + title) if title else ''}", fontsize=10)
    paths.append(_save(fig, out / "moments.png"))

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for s, (color, label) in _SIDE.items():
        _band(ax, x, curves["grf"][f"foot_{s}"], color, label)
    ax.set_xlabel("% of repetition", fontsize=8)
    ax.set_ylabel("vertical GRF (body weights)", fontsize=8)
    ax.legend(fontsize=8)
    ax.set_title(f"Ground reaction{suffix}", fontsize=9)
    paths.append(_save(fig, out / "grf.png"))

    if curves.get("activation"):
        fig, axes = plt.subplots(2, 3, figsize=(12, 5.5), sharey=True)
        for col, j in enumerate(joints):
            for row, (sign, what) in enumerate((("+", "flexors"), ("-", "extensors"))):
                ax = axes[row, col]
                for s, (color, label) in _SIDE.items():
                    _band(ax, x, curves["activation"][f"{j}_{s}{sign}"], color, label)
                name = j.split("_")[0]
                if j == "ankle_dorsiflexion":
                    what = "dorsiflexors" if sign == "+" else "plantarflexors"
                ax.set_title(f"{name} {what}", fontsize=9)
                ax.set_ylim(0, 1.02)
                ax.set_xlabel("% of repetition", fontsize=8)
        axes[0, 0].set_ylabel("activation", fontsize=8)
        axes[1, 0].set_ylabel("activation", fontsize=8)
        axes[0, 0].legend(fontsize=8)
        fig.suptitle(f"Minimal muscle activations (static optimisation){suffix}", fontsize=10)
        paths.append(_save(fig, out / "activations.png"))
    return paths
