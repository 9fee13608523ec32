"""Evaluating the motion tokenizer: reconstruction MPJPE per source, codebook usage and perplexity, against k-means.

MPJPE (mm) is the mean distance of the body's joint centres (forward kinematics on each clip's
own body) between the original motion and its reconstruction through the tokens, both at the
tokenizer's rate: *global* (the root trajectory integrated from the features, from the true
first frame: what HumanML3D-style tokenizers report) and *root-aligned* (each frame's pelvis
subtracted). Whole clips are tokenized at once (the network is convolutional), cut to a whole
number of tokens. Usage is the share of codes that occur at least once in the test tokens;
perplexity is ``exp`` of the entropy of the code histogram (both per quantiser, then averaged).

The baseline is the same bit rate without learning: each ``stride``-frame chunk of normalised
features (flattened) is coded by k-means (Lloyd; scikit-learn) with the same codebook size and,
for residual VQ, the same number of residual stages, fitted on the same training features.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from sklearn.cluster import KMeans

from ..io.mocap_corpus import CorpusClip
from ..pipelines.motion_features import FeatureStats, features_to_q, motion_features
from ..pipelines.motion_tokens import MotionTokenizer, joint_error_mm

__all__ = ["KMeansChunks", "TokenizerReport", "codebook_stats", "evaluate_tokenizer"]


def codebook_stats(ids: np.ndarray, codebook_size: int) -> tuple[float, float]:
    """``(usage %, perplexity)`` of token ids ``(N,)`` or ``(N, Q)``, averaged over quantisers."""
    ids = np.asarray(ids).reshape(len(ids), -1)
    usage, ppl = [], []
    for j in range(ids.shape[1]):
        counts = np.bincount(ids[:, j], minlength=codebook_size).astype(np.float64)
        p = counts / counts.sum()
        usage.append(100.0 * (counts > 0).mean())
        ppl.append(math.exp(-(p[p > 0] * np.log(p[p > 0])).sum()))
    return float(np.mean(usage)), float(np.mean(ppl))


class KMeansChunks:
    """Residual k-means over ``stride``-frame chunks of normalised features (the non-learned baseline)."""

    def __init__(self, codebook_size: int, n_quantizers: int, stride: int, stats: FeatureStats, seed: int = 0) -> None:
        self.k, self.nq, self.stride, self.stats, self.seed = codebook_size, n_quantizers, stride, stats, seed
        self.codebooks: list[np.ndarray] = []

    def _chunks(self, feats: np.ndarray) -> np.ndarray:
        n = len(feats) // self.stride * self.stride
        x = self.stats.normalise(torch.as_tensor(feats[:n])).numpy()
        return x.reshape(n // self.stride, -1)

    def fit(self, feats: list[np.ndarray]) -> KMeansChunks:
        resid = np.concatenate([self._chunks(f) for f in feats])
        for _ in range(self.nq):
            km = KMeans(self.k, n_init=1, random_state=self.seed).fit(resid)
            self.codebooks.append(km.cluster_centers_)
            resid = resid - km.cluster_centers_[km.labels_]
        return self

    def encode(self, feats: np.ndarray) -> np.ndarray:
        resid, ids = self._chunks(feats), []
        for cb in self.codebooks:
            d = ((resid[:, None, :] - cb[None]) ** 2).sum(-1)
            i = d.argmin(1)
            ids.append(i)
            resid = resid - cb[i]
        return np.stack(ids, axis=1)

    def decode(self, ids: np.ndarray) -> np.ndarray:
        x = sum(cb[ids[:, j]] for j, cb in enumerate(self.codebooks))
        x = torch.as_tensor(x.reshape(-1, self.stats.mean.shape[0]))
        return self.stats.denormalise(x).numpy()


@dataclass
class TokenizerReport:
    """Per source: ``{"frames", "clips", "mpjpe_mm", "mpjpe_root_mm"}`` for each method; codebook stats."""

    per_source: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    codebook: dict[str, dict[str, float]] = field(default_factory=dict)
    bits_per_frame: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"per_source": self.per_source, "codebook": self.codebook, "bits_per_frame": self.bits_per_frame}


def _accumulate(acc: dict, source: str, method: str, frames: int, err: float, err_root: float) -> None:
    for key in (source, "all"):
        a = acc[key][method]
        a["frames"] += frames
        a["clips"] += 1
        a["mpjpe_mm"] += err * frames
        a["mpjpe_root_mm"] += err_root * frames


def evaluate_tokenizer(tok: MotionTokenizer, baseline: KMeansChunks | None, clips: list[CorpusClip]) -> TokenizerReport:
    """Reconstruct every clip through ``tok`` (and ``baseline``); MPJPE per source and overall."""
    acc: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))
    ids_vq, ids_km = [], []
    for c in clips:
        ref = tok.at_rate(c.motion)
        tokens = tok.encode(ref)
        dec = tok.decode(tokens, ref.body)
        q = ref.q.double().numpy()
        _accumulate(acc, c.source, "vqvae", len(ref), joint_error_mm(ref.body, q, dec.q),
                    joint_error_mm(ref.body, q, dec.q, root_aligned=True))  # fmt: skip
        ids_vq.append(tokens.ids.reshape(len(tokens.ids), -1).numpy())
        if baseline is not None:
            feats = motion_features(q, ref.fps, ref.body)
            ids = baseline.encode(feats)
            q_km = features_to_q(baseline.decode(ids), ref.fps, q[0])
            _accumulate(acc, c.source, "kmeans", len(ref), joint_error_mm(ref.body, q, q_km),
                        joint_error_mm(ref.body, q, q_km, root_aligned=True))  # fmt: skip
            ids_km.append(ids)
    report = TokenizerReport()
    for source, methods in acc.items():
        report.per_source[source] = {}
        for method, a in methods.items():
            n = a["frames"]
            report.per_source[source][method] = {
                "frames": int(n), "clips": int(a["clips"]),
                "mpjpe_mm": a["mpjpe_mm"] / n, "mpjpe_root_mm": a["mpjpe_root_mm"] / n,
            }  # fmt: skip
    cfg = tok.model.config
    usage, ppl = codebook_stats(np.concatenate(ids_vq), cfg.codebook_size)
    report.codebook["vqvae"] = {"usage_pct": usage, "perplexity": ppl, "tokens": int(sum(map(len, ids_vq)))}
    if ids_km:
        usage, ppl = codebook_stats(np.concatenate(ids_km), cfg.codebook_size)
        report.codebook["kmeans"] = {"usage_pct": usage, "perplexity": ppl, "tokens": int(sum(map(len, ids_km)))}
    report.bits_per_frame = cfg.n_quantizers * math.log2(cfg.codebook_size) / cfg.stride
    return report
