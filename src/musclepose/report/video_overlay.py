"""The skeleton drawn over video frames, for the HTML report: key frames of each repetition and of each fault.

Reads the :class:`~musclepose.pipelines.video_pose.KeyFrame` list a video's result carries (BGR images,
MediaPipe-33 landmarks in that image's pixels, visibility) and draws the bones as lines and the joints as
dots (right side red, left blue, the centre white, as the report's plots); landmarks below a visibility of
0.3 are left out rather than drawn where the estimator guessed. Each figure is a PNG (matplotlib's Agg
canvas, in memory) that :mod:`.html` inlines.
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from typing import Any

import numpy as np

__all__ = ["BONES", "overlay_png"]

# MediaPipe-33 indices: (a, b) pairs drawn as bones.
BONES = (
    (11, 12), (11, 23), (12, 24), (23, 24),  # trunk
    (12, 14), (14, 16), (11, 13), (13, 15),  # arms (right 12-14-16, left 11-13-15)
    (24, 26), (26, 28), (28, 30), (28, 32), (30, 32),  # right leg and foot
    (23, 25), (25, 27), (27, 29), (27, 31), (29, 31),  # left leg and foot
    (0, 7), (0, 8),  # nose to ears
)  # fmt: skip
_MIN_VISIBILITY = 0.3


def _colour(a: int, b: int) -> str:
    right = {12, 14, 16, 24, 26, 28, 30, 32, 8}
    left = {11, 13, 15, 23, 25, 27, 29, 31, 7}
    if a in right and b in right:
        return "#d62728"
    if a in left and b in left:
        return "#1f77b4"
    return "#ffffff"


def overlay_png(frames: Sequence[Any], columns: int = 3) -> bytes:
    """One PNG of ``frames`` (KeyFrame-like: ``label``, ``time_s``, ``image``, ``xy``, ``visibility``) in a grid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(frames)
    cols = min(columns, n)
    rows = (n + cols - 1) // cols
    h, w = frames[0].image.shape[:2]
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * rows * h / w + 0.3 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, fr in zip(axes.ravel(), frames, strict=False):
        ax.imshow(fr.image[..., ::-1])  # BGR -> RGB
        xy, vis = np.asarray(fr.xy, dtype=float), np.asarray(fr.visibility, dtype=float)
        ok = np.isfinite(xy).all(-1) & (vis >= _MIN_VISIBILITY)
        for a, b in BONES:
            if ok[a] and ok[b]:
                ax.plot(xy[[a, b], 0], xy[[a, b], 1], "-", color=_colour(a, b), lw=2, alpha=0.9)
        ax.plot(xy[ok, 0], xy[ok, 1], "o", ms=3, color="#ffdd00", mec="k", mew=0.5)
        ax.set_xlim(-0.5, fr.image.shape[1] - 0.5)  # landmarks guessed outside the picture stay outside
        ax.set_ylim(fr.image.shape[0] - 0.5, -0.5)
        ax.set_title(f"{fr.label} ({fr.time_s:.2f} s)", fontsize=8)
    fig.tight_layout()
    buf = BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()
