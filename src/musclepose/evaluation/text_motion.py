"""Text->motion metrics of HumanML3D's protocol (Guo et al. 2022, CVPR; its ``eval_t2m`` code) over
embeddings of an evaluator (:class:`musclepose.pipelines.text_motion_eval.TextMotionEval`).

- R-precision: the test pairs are shuffled and cut into batches of 32; each motion ranks the 32
  texts of its batch (its own and 31 others) by Euclidean distance; top-k is the share whose own
  text is among the k nearest. Averaged over ``repeats`` shuffles; an incomplete last batch is dropped.
- FID: the Frechet distance between Gaussians fitted to two sets of motion embeddings,
  ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` (Heusel et al. 2017).
- Diversity: the mean distance between ``pairs`` random pairs of motion embeddings.
- Multimodality: per text, the mean distance between random pairs of the motions made for it.
- MM-distance: the mean distance between each text's embedding and its motion's.

All take numpy arrays ``(N, E)``; distances are Euclidean.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import linalg

__all__ = ["TextToMotionScores", "diversity", "fid", "mm_distance", "multimodality", "r_precision", "score"]


def _check(name: str, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be (N, E); got shape {x.shape}")
    return x


def r_precision(
    text: np.ndarray, motion: np.ndarray, top_k: int = 3, batch_size: int = 32, repeats: int = 20, seed: int = 0
) -> np.ndarray:
    """Top-1..``top_k`` R-precision ``(top_k,)`` of motions ``(N, E)`` against their texts ``(N, E)``."""
    text, motion = _check("text", text), _check("motion", motion)
    if text.shape != motion.shape:
        raise ValueError(f"text {text.shape} and motion {motion.shape} must pair up")
    n = len(text) // batch_size * batch_size
    if n == 0:
        raise ValueError(f"{len(text)} pairs: fewer than one batch of {batch_size}")
    rng = np.random.default_rng(seed)
    hits = np.zeros(top_k)
    for _ in range(repeats):
        order = rng.permutation(len(text))[:n].reshape(-1, batch_size)
        for idx in order:
            d = np.linalg.norm(motion[idx, None, :] - text[None, idx, :], axis=-1)  # (motion, text)
            own = np.diag(d)[:, None]
            # Texts nearer than the motion's own; an equally near one (the same text twice) counts when
            # it comes first, as a sort of the distances would place it.
            earlier = np.arange(batch_size)[None, :] < np.arange(batch_size)[:, None]
            rank = (d < own).sum(1) + ((d == own) & earlier).sum(1)
            hits += (rank[:, None] < np.arange(1, top_k + 1)[None]).sum(0)
    return hits / (repeats * n)


def fid(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to the rows of ``a`` and ``b``."""
    a, b = _check("a", a), _check("b", b)
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(s_a @ s_b)
    if not np.isfinite(root).all():  # singular product: regularise as in Heusel et al.'s code
        eps = 1e-6 * np.eye(len(s_a))
        root = linalg.sqrtm((s_a + eps) @ (s_b + eps))
    root = np.real(root)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2.0 * np.trace(root))


def diversity(motion: np.ndarray, pairs: int = 300, seed: int = 0) -> float:
    """Mean distance between ``pairs`` random pairs of rows of ``motion``."""
    motion = _check("motion", motion)
    rng = np.random.default_rng(seed)
    i, j = rng.integers(len(motion), size=pairs), rng.integers(len(motion), size=pairs)
    return float(np.linalg.norm(motion[i] - motion[j], axis=-1).mean())


def multimodality(groups: np.ndarray, pairs: int = 10, seed: int = 0) -> float:
    """Mean distance between ``pairs`` random pairs of motions within each text's group ``(N, M, E)``."""
    groups = np.asarray(groups, dtype=np.float64)
    if groups.ndim != 3 or groups.shape[1] < 2:
        raise ValueError(f"groups must be (N, M >= 2, E); got shape {groups.shape}")
    rng = np.random.default_rng(seed)
    i = rng.integers(groups.shape[1], size=(len(groups), pairs))
    j = rng.integers(groups.shape[1], size=(len(groups), pairs))
    rows = np.arange(len(groups))[:, None]
    return float(np.linalg.norm(groups[rows, i] - groups[rows, j], axis=-1).mean())


def mm_distance(text: np.ndarray, motion: np.ndarray) -> float:
    """Mean distance between each text's embedding and its motion's."""
    return float(np.linalg.norm(_check("text", text) - _check("motion", motion), axis=-1).mean())


@dataclass
class TextToMotionScores:
    """One method's scores (the fields of HumanML3D's text->motion table)."""

    r_precision: list[float]  # top-1, top-2, top-3
    fid: float
    diversity: float
    mm_distance: float
    multimodality: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def score(
    text: np.ndarray, motion: np.ndarray, reference: np.ndarray, groups: np.ndarray | None = None, seed: int = 0
) -> TextToMotionScores:
    """All metrics for motions ``(N, E)`` made for texts ``(N, E)``; FID against ``reference``
    motion embeddings (real motions for the same texts); multimodality when ``groups`` is given."""
    return TextToMotionScores(
        r_precision=[float(v) for v in r_precision(text, motion, seed=seed)],
        fid=fid(motion, reference),
        diversity=diversity(motion, seed=seed),
        mm_distance=mm_distance(text, motion),
        multimodality=None if groups is None else multimodality(groups, seed=seed),
    )
