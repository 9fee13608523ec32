"""Figures of a simulated imitation (``musclepose imitate --plot DIR``): how closely the simulated body
followed the recording, what the residual root forces had to add, and what the muscles had to do.

``tracking.png``: reference (grey, dashed) and simulated (colour) angles of the sagittal joints over
time, right side red, left blue, a fall marked. ``residual.png``: the residual root force (% body
weight) and moment over time (only with residual forces). ``muscles.png`` (with activations): the
lower-body generators' activations over time and, per DoF, the largest torque they could not supply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .kinetics_plots import _save

__all__ = ["plot_imitation"]

_JOINTS = (("hip_flexion", "hip (+ flexion)"), ("knee_flexion", "knee (+ flexion)"),
           ("ankle_dorsiflexion", "ankle (+ dorsiflexion)"))  # fmt: skip
_SIDES = (("r", "tab:red", "right"), ("l", "tab:blue", "left"))
_GENERATORS = ("hip_flexion_r", "knee_flexion_r", "ankle_dorsiflexion_r", "lumbar_flexion")  # +/- pairs drawn


def plot_imitation(result: Any, out_dir: str | Path) -> list[Path]:
    """Write the figures of ``result`` (a :class:`musclepose.pipelines.imitate.ImitationResult`) into
    ``out_dir``; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = result.tracking
    names = list(result.simulated.body.dof_names)
    time = np.arange(len(t.q)) / float(t.fps)
    out, paths = Path(out_dir), []

    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), sharex=True)
    for ax, (joint, title) in zip(axes.flat, [*_JOINTS, ("lumbar_flexion", "lumbar (+ flexion)")], strict=True):
        sided = joint != "lumbar_flexion"
        dofs = [(f"{joint}_{s}", color, side) for s, color, side in _SIDES] if sided else [(joint, "tab:green", "")]
        for dof, color, side in dofs:
            k = names.index(dof)
            ax.plot(time, np.degrees(t.reference[:, k]), color="0.5", ls="--", lw=1.0)
            rmse = t.rmse_deg_per_dof.get(dof)
            label = f"{side} simulated" + (f" (RMSE {rmse:.1f}°)" if rmse is not None else "")
            ax.plot(time, np.degrees(t.q[:, k]), color=color, lw=1.4, label=label.strip())
        if t.fell and t.fall_time_s is not None:
            ax.axvline(t.fall_time_s, color="k", lw=1.0, ls=":")
        ax.set_title(title)
        ax.set_ylabel("deg")
        ax.legend(fontsize=7, loc="best")
    for ax in axes[-1]:
        ax.set_xlabel("time (s)")
    fell = f", fell at {t.fall_time_s:.2f} s" if t.fell and t.fall_time_s is not None else ""
    fig.suptitle(f"{Path(result.source).name or 'recording'}: {t.controller.upper()} tracking, joint RMSE "
                 f"{t.joint_rmse_deg:.2f}° (dashed: the recording){fell}")  # fmt: skip
    paths.append(_save(fig, out / "tracking.png"))

    if t.residual and len(t.torques):
        fig, (a1, a2) = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
        force = np.linalg.norm(t.torques[:, :3], axis=-1)
        moment = np.linalg.norm(t.torques[:, 3:6], axis=-1)
        bw = t.body_weight_n or 1.0
        a1.plot(time[: len(force)], 100.0 * force / bw, color="tab:purple")
        a1.set_ylabel("force (% body weight)")
        a1.set_title(f"residual root force: max {t.max_residual_force_n:.0f} N, rms {t.rms_residual_force_n:.0f} N")
        a2.plot(time[: len(moment)], moment, color="tab:orange")
        a2.set_ylabel("moment (N·m)")
        a2.set_xlabel("time (s)")
        paths.append(_save(fig, out / "residual.png"))

    m = result.muscles
    if m is not None and len(m.activations):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [2, 1]})
        gens = list(m.generator_names)
        for g, name in enumerate(gens):
            if name.rstrip("+-") in _GENERATORS:
                a1.plot(time[: len(m.activations)], m.activations[:, g], lw=1.0, label=name)
        a1.set_ylim(0.0, 1.05)
        a1.set_xlabel("time (s)")
        a1.set_ylabel("activation")
        a1.set_title(f"activations ({m.method}), right leg and lumbar")
        a1.legend(fontsize=6, ncol=2, title="+ flexor side, - extensor side", title_fontsize=6)
        worst = np.abs(m.unsupplied_nm).max(axis=0)
        order = np.argsort(-worst)[:10]
        a2.barh([m.dof_names[i] for i in order][::-1], worst[order][::-1], color="tab:red")
        a2.set_xlabel("N·m")
        a2.set_title("torque beyond the muscles (max)")
        paths.append(_save(fig, out / "muscles.png"))
    return paths
