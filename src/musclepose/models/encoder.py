"""The MusclePose encoder: the seven trajectory channels (and optionally keypoints) -> body states.

A transformer encoder (d_model 256, 8 layers, 8 heads, pre-norm, GELU; Vaswani et al. 2017)
over the frames of a clip, with a sinusoidal positional encoding in seconds (so clips at
different frame rates share one time axis) and the padding mask applied in every layer. Its
physics heads predict, per frame: the generalized coordinates ``q (47)`` (root translation
relative to the first frame, m; angles, rad), foot contact logits (right, left), the five
GRF-model residuals per foot (:class:`musclepose.models.grf.GRFModel`'s ``delta``), and the
82 torque-generator activations in [0, 1] (layout of :mod:`musclepose.body.muscles`); per
clip, an anthropometric shape vector (height, mass, sex logit) from a masked mean over time,
and, when the config names them, the clip's form faults (a logit, a severity in [0, 1] and a
side logit, > 0 = right, per fault) and its exercise (logits), from the masked mean and max
over time through a small MLP.

Keypoints enter as :func:`normalise_keypoints` makes them (camera- and size-invariant 2-D
coordinates plus confidence), so pixels from any camera and projections of a 3-D motion
look alike; a clip without keypoints passes zeros (confidence 0).

The network only maps inputs to predictions. Differentiation of ``q`` with the clip's fps,
inverse dynamics (``tau_q``) and the muscle torques (``tau_mtg``) are computed from these
outputs by the training code with :mod:`musclepose.body`, never inside the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .bridge import sinusoidal_encoding

__all__ = ["EncoderConfig", "EncoderOutput", "MotionEncoder", "normalise_keypoints"]

_HIPS = (11, 12)  # COCO-17 left and right hip


def normalise_keypoints(kp: torch.Tensor, pad: torch.Tensor | None = None) -> torch.Tensor:
    """2-D keypoints ``(B, T, K, 3)`` (image x, image y pointing down, confidence) -> ``(B, T, 3K)``.

    Per clip: the origin is the median hip midpoint of the confident frames, the unit the median
    height of the keypoint box (so the subject is about 1 tall), y points up; keypoints with
    confidence below 0.1 (occluded) are set to 0 with confidence 0. Works for pixels from any
    pinhole camera and for an orthographic projection of a 3-D motion alike.
    """
    xy, conf = kp[..., :2], kp[..., 2]
    seen = conf >= 0.1
    if pad is not None:
        seen = seen & ~pad[..., None]
    big = torch.finfo(kp.dtype).max
    lo = torch.where(seen[..., None], xy, big).amin(-2)
    hi = torch.where(seen[..., None], xy, -big).amax(-2)
    frame_ok = seen.sum(-1) >= 4
    height = torch.where(frame_ok, hi[..., 1] - lo[..., 1], torch.nan)
    hips = xy[..., _HIPS, :].mean(-2)
    hips = torch.where((frame_ok & seen[..., _HIPS].all(-1))[..., None], hips, torch.nan)
    scale = height.nanmedian(dim=-1).values.nan_to_num(1.0).clamp(min=1e-6)  # (B,)
    centre = hips.nanmedian(dim=-2).values.nan_to_num(0.0)  # (B, 2)
    u = (xy - centre[:, None, None]) / scale[:, None, None, None]
    u = torch.stack([u[..., 0], -u[..., 1]], -1)
    u = torch.where(seen[..., None], u, 0.0)
    return torch.cat([u, torch.where(seen, conf, 0.0)[..., None]], -1).flatten(-2)


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
    n_faults: int = 0  # per-clip fault heads (0 = none)
    n_exercises: int = 0  # per-clip exercise classifier (0 = none)


@dataclass
class EncoderOutput:
    states: torch.Tensor  # (B, T, d_model)
    q: torch.Tensor  # (B, T, 47)
    contact_logits: torch.Tensor  # (B, T, 2)
    grf_delta: torch.Tensor  # (B, T, 2, 5)
    activations: torch.Tensor  # (B, T, 82) in [0, 1]
    shape: torch.Tensor  # (B, n_shape)
    fault_logits: torch.Tensor | None = None  # (B, n_faults)
    fault_severity: torch.Tensor | None = None  # (B, n_faults) in [0, 1]
    fault_side_logits: torch.Tensor | None = None  # (B, n_faults), > 0 = right
    exercise_logits: torch.Tensor | None = None  # (B, n_exercises)


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
        n_clip = 3 * c.n_faults + c.n_exercises
        self.clip_head = (
            nn.Sequential(nn.Linear(2 * c.d_model, c.d_model), nn.GELU(), nn.Linear(c.d_model, n_clip))
            if n_clip
            else None
        )

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
        clip = {}
        if self.clip_head is not None:
            peak = h.masked_fill(keep == 0, torch.finfo(h.dtype).min).amax(1)
            z = self.clip_head(torch.cat([pooled, peak], -1))
            nf = c.n_faults
            clip = {
                "fault_logits": z[:, :nf],
                "fault_severity": torch.sigmoid(z[:, nf : 2 * nf]),
                "fault_side_logits": z[:, 2 * nf : 3 * nf],
                "exercise_logits": z[:, 3 * nf :],
            }
        return EncoderOutput(
            states=h,
            q=self.q_head(h),
            contact_logits=self.contact_head(h),
            grf_delta=self.grf_head(h).reshape(b, t, 2, c.n_grf_residuals),
            activations=torch.sigmoid(self.activation_head(h)),
            shape=self.shape_head(pooled),
            **clip,
        )
