"""The Hybrid Disentangling Transformer (HDT): body-worn IMU features -> pose with per-joint uncertainty.

The QuantumLeap seed's network, causal so that it streams: a 1-D CNN front end (blocks of a
causal Conv1d k7 + BatchNorm + ReLU + Dropout, then a causal Conv1d k5 and a linear map to
``d_model``), a pre-norm transformer core (nanoGPT-style blocks, GELU, sinusoidal position
by frame index within the window) whose attention is causal, and a disentangling stage: a
"what" (content) and a "how" (style) projection to ``d_factor`` with mutual causal
cross-attention. Heads, per frame:

- pose (from content and style): the 6-D rotation (Zhou et al. 2019) of each of ``n_joints``
  joints, a log-variance per joint (a Gaussian over the joint's six numbers), the root velocity
  (3, m/s) and its log-variance;
- exercise logits ("what", from content) and form-fault logits ("how", from style).

A frame sees at most ``window`` frames (itself and the ones before): run on the last
``window`` frames, the last output is the streaming pose of the newest frame
(:class:`StreamingHDT`, the ONNX export's graph). ``n_layers = 0`` with ``cross_attention =
False`` is the CNN-only baseline. Inputs are :func:`musclepose.pipelines.imu_features.imu_features`.
No I/O and no training here (:mod:`musclepose.training.hdt`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["HDT", "HDTConfig", "HDTOutput", "StreamingHDT"]

LOGVAR_RANGE = (-14.0, 4.0)


@dataclass
class HDTConfig:
    """The seed's sizes by default (d 256, 6 layers, 8 heads, CNN 32/64/128/256)."""

    n_inputs: int = 70
    n_joints: int = 18
    cnn_channels: tuple[int, ...] = (32, 64, 128, 256)
    kernel: int = 7
    final_kernel: int = 5
    d_model: int = 256
    n_layers: int = 6
    n_heads: int = 8
    ff_hidden: int = 1024
    dropout: float = 0.1
    window: int = 48
    d_factor: int = 128
    cross_attention: bool = True
    pose_hidden: int = 512
    n_exercises: int = 8
    n_faults: int = 17


@dataclass
class HDTOutput:
    rot6: torch.Tensor  # (B, T, J, 6)
    logvar: torch.Tensor  # (B, T, J)
    vel: torch.Tensor  # (B, T, 3)
    vel_logvar: torch.Tensor  # (B, T)
    exercise_logits: torch.Tensor  # (B, T, n_exercises)
    form_logits: torch.Tensor  # (B, T, n_faults)


def _sinusoid(n: int, d: int, device, dtype) -> torch.Tensor:
    pos = torch.arange(n, device=device, dtype=dtype)[:, None]
    i = torch.arange(0, d, 2, device=device, dtype=dtype)
    ang = pos / torch.pow(torch.as_tensor(10000.0, device=device, dtype=dtype), i / d)
    pe = torch.zeros(n, d, device=device, dtype=dtype)
    pe[:, 0::2] = torch.sin(ang)
    pe[:, 1::2] = torch.cos(ang[:, : d // 2])
    return pe


def causal_mask(t: int, window: int, device) -> torch.Tensor:
    """``(t, t)`` bool, True where query ``i`` may attend key ``j``: ``i - window < j <= i``."""
    i = torch.arange(t, device=device)
    d = i[:, None] - i[None, :]
    return (d >= 0) & (d < window)


class CausalConv(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int):
        super().__init__()
        self.k = k
        self.conv = nn.Conv1d(c_in, c_out, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T)
        return self.conv(F.pad(x, (self.k - 1, 0)))


class Attention(nn.Module):
    def __init__(self, d: int, n_heads: int, dropout: float, d_kv: int | None = None):
        super().__init__()
        self.h = n_heads
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d_kv or d, 2 * d)
        self.proj = nn.Linear(d, d)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, ctx: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q = self.q(x).view(b, t, self.h, d // self.h).transpose(1, 2)
        k, v = self.kv(ctx).view(b, ctx.shape[1], 2, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0)
        return self.proj(y.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    """Pre-norm transformer block (causal self-attention + GELU MLP)."""

    def __init__(self, c: HDTConfig):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(c.d_model), nn.LayerNorm(c.d_model)
        self.attn = Attention(c.d_model, c.n_heads, c.dropout)
        self.mlp = nn.Sequential(
            nn.Linear(c.d_model, c.ff_hidden), nn.GELU(), nn.Linear(c.ff_hidden, c.d_model), nn.Dropout(c.dropout)
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.ln1(x)
        x = x + self.attn(h, h, mask)
        return x + self.mlp(self.ln2(x))


class HDT(nn.Module):
    """See the module docstring."""

    def __init__(self, config: HDTConfig):
        super().__init__()
        c = self.config = config
        layers: list[nn.Module] = []
        c_in = c.n_inputs
        for ch in c.cnn_channels:
            layers += [CausalConv(c_in, ch, c.kernel), nn.BatchNorm1d(ch), nn.ReLU(), nn.Dropout(c.dropout)]
            c_in = ch
        layers.append(CausalConv(c_in, c_in, c.final_kernel))
        self.cnn = nn.Sequential(*layers)
        self.embed = nn.Linear(c_in, c.d_model)
        self.blocks = nn.ModuleList([Block(c) for _ in range(c.n_layers)])
        self.ln_f = nn.LayerNorm(c.d_model)
        self.content = nn.Linear(c.d_model, c.d_factor)
        self.style = nn.Linear(c.d_model, c.d_factor)
        heads = max(1, c.n_heads // 2)
        self.content_from_style = Attention(c.d_factor, heads, c.dropout) if c.cross_attention else None
        self.style_from_content = Attention(c.d_factor, heads, c.dropout) if c.cross_attention else None
        j = c.n_joints
        self.pose_head = nn.Sequential(
            nn.Linear(2 * c.d_factor, c.pose_hidden), nn.GELU(),
            nn.Linear(c.pose_hidden, c.pose_hidden // 2), nn.GELU(),
            nn.Linear(c.pose_hidden // 2, 7 * j + 4),
        )  # fmt: skip
        self.exercise_head = nn.Linear(c.d_factor, c.n_exercises)
        self.form_head = nn.Linear(c.d_factor, c.n_faults)

    @property
    def receptive_field(self) -> int:
        """Frames the CNN front end sees (the transformer sees ``window``)."""
        c = self.config
        return len(c.cnn_channels) * (c.kernel - 1) + c.final_kernel

    def forward(self, x: torch.Tensor) -> HDTOutput:
        """``x (B, T, n_inputs)`` -> per-frame outputs (each frame from at most ``window`` frames before it)."""
        c = self.config
        if x.ndim != 3 or x.shape[-1] != c.n_inputs:
            raise ValueError(f"HDT input must be (B, T, {c.n_inputs}); got {tuple(x.shape)}")
        b, t, _ = x.shape
        h = self.embed(self.cnn(x.transpose(1, 2)).transpose(1, 2))
        mask = causal_mask(t, c.window, x.device)
        if c.n_layers:
            h = h + _sinusoid(t, c.d_model, x.device, h.dtype)
        for blk in self.blocks:
            h = blk(h, mask)
        h = self.ln_f(h)
        con, sty = self.content(h), self.style(h)
        if self.content_from_style is not None:
            con, sty = con + self.content_from_style(con, sty, mask), sty + self.style_from_content(sty, con, mask)
        z = self.pose_head(torch.cat([con, sty], -1))
        j = c.n_joints
        lo, hi = LOGVAR_RANGE
        return HDTOutput(
            rot6=z[..., : 6 * j].reshape(b, t, j, 6),
            logvar=z[..., 6 * j : 7 * j].clamp(lo, hi),
            vel=z[..., 7 * j : 7 * j + 3],
            vel_logvar=z[..., 7 * j + 3].clamp(lo, hi),
            exercise_logits=self.exercise_head(con),
            form_logits=self.form_head(sty),
        )

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class StreamingHDT(nn.Module):
    """One frame in, one pose out: ``x (1, window, n_inputs)`` (the newest ``window`` frames, fewer at
    the start) -> the newest frame's ``rot6 (J, 6)``, ``logvar (J,)``, ``vel (3,)``, ``vel_logvar ()``,
    ``exercise_logits (E,)``. The graph exported to ONNX."""

    def __init__(self, model: HDT):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor):
        out = self.model(x)
        return (
            out.rot6[0, -1],
            out.logvar[0, -1],
            out.vel[0, -1],
            out.vel_logvar[0, -1],
            out.exercise_logits[0, -1],
        )


def scale_logvar(logvar: torch.Tensor, temperature: float) -> torch.Tensor:
    """Log-variance after temperature scaling of the standard deviation by ``temperature``."""
    return logvar + 2.0 * math.log(temperature)
