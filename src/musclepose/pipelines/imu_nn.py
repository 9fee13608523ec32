"""Nearest-neighbour retrieval over training windows: the non-learned baseline of pose from IMUs.

For each layout a table of training frames: the key is the model's input features
(:func:`~.imu_features.imu_features`) at the frame and :data:`LAGS` frames before it,
projected on their first principal components (fitted on the table, scikit-learn's PCA at build
time; stored as numbers); the value is the frame's pose (18 x 6-D rotations). A query frame takes
the mean pose of its ``k`` nearest keys (Euclidean), re-orthonormalised, and as its uncertainty
the spread of those poses (the sd over the neighbours of each joint's six numbers, pooled).
Saved as ``nn_<layout>.safetensors`` beside the checkpoint (float16).
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ..body.rotations import matrix_to_rotation_6d, rotation_6d_to_matrix

__all__ = ["LAGS", "NNIndex", "lagged"]

LAGS = (0, 5, 10)  # frames: the present and 1/6 s, 1/3 s before (at 30 Hz)
SD_FLOOR = 0.01


def lagged(x: torch.Tensor) -> torch.Tensor:
    """Features ``(T, F)`` -> keys before projection ``(T, len(LAGS) F)`` (earlier frames clamped at 0)."""
    t = torch.arange(x.shape[0])
    return torch.cat([x[(t - lag).clamp(min=0)] for lag in LAGS], -1)


class NNIndex:
    """Per-layout tables (module docstring); ``tables[layout] = {"mean", "components", "keys", "rot6"}``."""

    def __init__(self, tables: dict[str, dict[str, torch.Tensor]], k: int = 8):
        self.tables = tables
        self.k = k

    @property
    def layouts(self) -> tuple[str, ...]:
        return tuple(self.tables)

    @classmethod
    def fit(cls, data: dict[str, tuple[torch.Tensor, torch.Tensor]], n_components: int = 32, k: int = 8) -> NNIndex:
        """``data[layout] = (lagged features (N, D), rot6 (N, 18, 6))`` -> the index."""
        from sklearn.decomposition import PCA  # build time only

        tables = {}
        for layout, (keys, rot6) in data.items():
            pca = PCA(n_components=n_components, random_state=0).fit(keys.double().numpy())
            mean = torch.as_tensor(pca.mean_, dtype=torch.float32)
            comp = torch.as_tensor(pca.components_, dtype=torch.float32)
            tables[layout] = {"mean": mean, "components": comp, "keys": ((keys.float() - mean) @ comp.T).half(),
                              "rot6": rot6.half()}  # fmt: skip
        return cls(tables, k)

    def save(self, folder: str | Path) -> list[Path]:
        out = []
        for layout, tab in self.tables.items():
            p = Path(folder) / f"nn_{layout}.safetensors"
            save_file({k: v.contiguous() for k, v in tab.items()}, str(p), metadata={"k": str(self.k)})
            out.append(p)
        return out

    @classmethod
    def load(cls, folder: str | Path) -> NNIndex | None:
        files = sorted(Path(folder).glob("nn_*.safetensors"))
        if not files:
            return None
        return cls({p.stem[3:]: load_file(str(p)) for p in files})

    @torch.no_grad()
    def predict(self, x: torch.Tensor, layout: str, chunk: int = 512) -> tuple[torch.Tensor, torch.Tensor]:
        """``x (T, F)`` features -> mean neighbour pose ``(T, 18, 6)`` and per-joint sd ``(T, 18)``."""
        tab = self.tables[layout]
        q = (lagged(x.float()) - tab["mean"]) @ tab["components"].T
        keys, vals = tab["keys"].float(), tab["rot6"].float()
        rot, sd = [], []
        for a in range(0, q.shape[0], chunk):
            d = torch.cdist(q[a : a + chunk], keys)
            idx = d.topk(self.k, largest=False).indices  # (t, k)
            v = vals[idx]  # (t, k, 18, 6)
            rot.append(matrix_to_rotation_6d(rotation_6d_to_matrix(v.mean(1))))
            sd.append(v.var(1).mean(-1).sqrt().clamp(min=SD_FLOOR))
        return torch.cat(rot), torch.cat(sd)
