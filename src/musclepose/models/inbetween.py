"""InbetweenNet: the frames of a gap from the frames around it (motion in-betweening).

Input ``(B, C + n + C, F)``: ``C`` context frames of A, ``n`` gap frames holding the spherical
interpolation of the gap (the baseline), ``C`` frames of B, each a normalised feature vector
(:func:`musclepose.pipelines.inbetween.window_features`). Each frame is embedded with a flag
for "in the gap" and its place in the gap (``k / (n + 1)``), sinusoidal positions are added
(Vaswani et al. 2017), and a small pre-norm transformer encoder reads the whole window, as the
masked-frame in-betweeners do (Kim et al. 2022, "Conditional motion in-betweening"; Oreshkin et
al. 2022, "Motion in-betweening via deep delta-interpolator": predict the residual over
interpolation). The output head is zero-initialised, so the untrained network returns the
interpolation; context frames are passed through unchanged. No I/O, no training loop
(:mod:`musclepose.training.inbetween`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["InbetweenConfig", "InbetweenNet"]


@dataclass
class InbetweenConfig:
    """``n_features`` per frame, ``context`` frames each side, transformer ``width``, ``depth``
    layers, ``heads``, feed-forward ``ff`` width, ``dropout``, and the ``fps`` it was trained at."""

    n_features: int = 111
    context: int = 20
    width: int = 128
    depth: int = 3
    heads: int = 4
    ff: int = 256
    dropout: float = 0.1
    fps: float = 20.0
    max_len: int = 256


class InbetweenNet(nn.Module):
    def __init__(self, config: InbetweenConfig) -> None:
        super().__init__()
        self.config = c = config
        self.inp = nn.Linear(c.n_features + 2, c.width)
        layer = nn.TransformerEncoderLayer(
            c.width, c.heads, c.ff, c.dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, c.depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(c.width)
        self.out = nn.Linear(c.width, c.n_features)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        pos = torch.arange(c.max_len, dtype=torch.float32)[:, None]
        freq = torch.exp(torch.arange(0, c.width, 2, dtype=torch.float32) * (-math.log(10000.0) / c.width))
        pe = torch.zeros(c.max_len, c.width)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, x: torch.Tensor, context: int, n: int) -> torch.Tensor:
        """``x (B, 2 * context + n, F)`` -> the same window with the gap frames replaced."""
        b, length, f = x.shape
        if length != 2 * context + n or f != self.config.n_features or length > self.config.max_len:
            raise ValueError(f"x must be (B, 2 * {context} + {n} <= {self.config.max_len}, {f}); got {tuple(x.shape)}")
        gap = torch.zeros(length, dtype=x.dtype, device=x.device)
        gap[context : context + n] = 1.0
        where = torch.zeros(length, dtype=x.dtype, device=x.device)
        where[context : context + n] = torch.arange(1, n + 1, dtype=x.dtype, device=x.device) / (n + 1)
        extra = torch.stack([gap, where], dim=-1).expand(b, length, 2)
        h = self.inp(torch.cat([x, extra], dim=-1)) + self.pe[:length]
        delta = self.out(self.norm(self.encoder(h)))
        return x + delta * gap[None, :, None]
