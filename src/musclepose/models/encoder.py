"""The MusclePose encoder: the seven trajectory channels (and optionally keypoints) -> body states.

A transformer encoder (d_model 256, 8 layers, 8 heads, pre-norm, GELU; Vaswani et al. 2017)
over the frames of a clip, with a sinusoidal positional encoding in seconds (so clips at
different frame rates share one time axis) and the padding mask applied in every layer. Its
physics heads predict, per frame: the generalized coordinates ``q (47)`` (root translation
relative to the first frame, m; angles, rad), foot contact logits (right, left), the five
GRF-model residuals per foot (:class:`musclepose.models.grf.GRFModel`'s ``delta``), and the
82 torque-generator activations in [0, 1] (layout of :mod:`musclepose.body.muscles`); per
clip, an anthropometric shape vector (height, mass, sex logit) from a masked mean over time.

The network only maps inputs to predictions. Differentiation of ``q`` with the clip's fps,
inverse dynamics (``tau_q``) and the muscle torques (``tau_mtg``) are computed from these
outputs by the training code with :mod:`musclepose.body`, never inside the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .bridge import sinusoidal_encoding

__all__ = ["EncoderConfig", "EncoderOutput", "MotionEncoder"]


@dataclass
class EncoderConfig:
    n_channels: int = 7
    keypoint_dim: int = 0  # e.g. 17 * 3 for COCO-17 (x, y, confidence); 0 = channels only
    d_model: int = 256
    n_layers: int = 8
    n_heads: int = 8
    ff_hidden: int = 1024
    dropout: float = 0.1
    n_dof: int = 47
    n_generators: int = 82
    n_grf_residuals: int = 5
    n_shape: int = 3


@dataclass
class EncoderOutput:
    states: torch.Tensor  # (B, T, d_model)
    q: torch.Tensor  # (B, T, 47)
    contact_logits: torch.Tensor  # (B, T, 2)
    grf_delta: torch.Tensor  # (B, T, 2, 5)
    activations: torch.Tensor  # (B, T, 82) in [0, 1]
    shape: torch.Tensor  # (B, n_shape)


class MotionEncoder(nn.Module):
    """See the module docstring."""

    def __init__(self, config: EncoderConfig):
        super().__init__()
        c = self.config = config
        self.input_norm = nn.LayerNorm(c.n_channels + c.keypoint_dim)
        self.input_proj = nn.Linear(c.n_channels + c.keypoint_dim, c.d_model)
        layer = nn.TransformerEncoderLayer(
            c.d_model, c.n_heads, c.ff_hidden, c.dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.transformer = nn.TransformerEncoder(layer, c.n_layers, enable_nested_tensor=False)
        self.final_norm = nn.LayerNorm(c.d_model)
        self.q_head = nn.Linear(c.d_model, c.n_dof)
        self.contact_head = nn.Linear(c.d_model, 2)
        self.grf_head = nn.Linear(c.d_model, 2 * c.n_grf_residuals)
        self.activation_head = nn.Linear(c.d_model, c.n_generators)
        self.shape_head = nn.Linear(c.d_model, c.n_shape)

    def forward(
        self,
        channels: torch.Tensor,
        fps: torch.Tensor | float,
        pad: torch.Tensor | None = None,
        keypoints: torch.Tensor | None = None,
    ) -> EncoderOutput:
        """``channels (B, T, 7)``, ``fps`` scalar or ``(B,)``, ``pad (B, T)`` True on padding,
        ``keypoints (B, T, keypoint_dim)`` when the config has them."""
        c = self.config
        x = channels if keypoints is None else torch.cat([channels, keypoints.flatten(2)], dim=-1)
        if x.shape[-1] != c.n_channels + c.keypoint_dim:
            raise ValueError(f"expected {c.n_channels + c.keypoint_dim} input features per frame; got {x.shape[-1]}")
        b, t, _ = x.shape
        fps_t = torch.as_tensor(fps, dtype=x.dtype, device=x.device).reshape(-1, 1).expand(b, 1)
        seconds = torch.arange(t, dtype=x.dtype, device=x.device)[None] / fps_t
        h = self.input_proj(self.input_norm(x)) + sinusoidal_encoding(seconds * 10.0, c.d_model)
        if pad is not None:
            h = h.masked_fill(pad[..., None], 0.0)
        h = self.final_norm(self.transformer(h, src_key_padding_mask=pad))
        keep = (~pad).to(h.dtype)[..., None] if pad is not None else torch.ones_like(h[..., :1])
        pooled = (h * keep).sum(1) / keep.sum(1).clamp(min=1.0)
        return EncoderOutput(
            states=h,
            q=self.q_head(h),
            contact_logits=self.contact_head(h),
            grf_delta=self.grf_head(h).reshape(b, t, 2, c.n_grf_residuals),
            activations=torch.sigmoid(self.activation_head(h)),
            shape=self.shape_head(pooled),
        )
