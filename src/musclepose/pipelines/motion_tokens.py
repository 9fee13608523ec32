"""Running the motion tokenizer: a Motion -> token ids -> a Motion, from a checkpoint folder.

The checkpoint (default: the shipped ``assets/motion_tokens``) is a folder of ``config.json`` +
``vqvae.safetensors`` (:mod:`.checkpoint`, no pickle); ``config.json``'s ``extra.features``
holds the feature layout, rate and normalisation (:mod:`.motion_features`). A motion is
resampled to the tokenizer's rate and cut to a whole number of tokens (``stride`` frames each);
decoding puts the first frame at the given start (root x, z and heading) and integrates the
rest. Needs the ``tokens`` extra (``vector-quantize-pytorch``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..body import Body
from ..io.errors import FormatError
from ..models.vqvae import VQVAE
from ..motion.core import Motion
from .checkpoint import load_checkpoint
from .motion_features import FEATURE_DIM, LAYOUT, FeatureStats, features_to_q, joint_error_mm, motion_features

__all__ = ["DEFAULT_TOKENIZER", "MotionTokenizer", "TokenizedMotion", "joint_error_mm"]

DEFAULT_TOKENIZER = Path(__file__).resolve().parents[1] / "assets" / "motion_tokens"


@dataclass
class TokenizedMotion:
    """Token ids ``(N,)`` or ``(N, Q)`` of a motion, with what decoding needs to place it."""

    ids: torch.Tensor
    fps: float
    start_q: np.ndarray  # (47,) the first frame of the tokenized motion


class MotionTokenizer:
    """A trained :class:`~musclepose.models.vqvae.VQVAE` with its feature normalisation."""

    def __init__(self, model: VQVAE, stats: FeatureStats) -> None:
        self.model = model.eval()
        self.stats = stats
        self.fps = float(model.config.fps)
        self.stride = model.config.stride

    @classmethod
    def from_pretrained(cls, folder: str | Path = DEFAULT_TOKENIZER) -> MotionTokenizer:
        parts, extra = load_checkpoint(folder)
        model = parts.get("vqvae")
        cfg = Path(folder) / "config.json"
        if not isinstance(model, VQVAE):
            raise FormatError(cfg, "no 'vqvae' part of type VQVAE", field="parts")
        feats = extra.get("features", {})
        if feats.get("layout") != {k: list(v) for k, v in LAYOUT.items()} or model.config.n_features != FEATURE_DIM:
            raise FormatError(cfg, "feature layout differs from this version's", field="extra.features.layout")
        try:
            stats = FeatureStats.from_json(feats)
        except (KeyError, TypeError, ValueError) as err:
            raise FormatError(cfg, str(err), field="extra.features") from None
        return cls(model, stats)

    def at_rate(self, motion: Motion) -> Motion:
        """``motion`` at the tokenizer's rate, cut to a whole number of tokens."""
        m = motion if abs(motion.fps - self.fps) < 1e-6 * self.fps else motion.resampled(self.fps)
        n = len(m) // self.stride * self.stride
        if n < self.stride:
            raise ValueError(f"motion too short: {len(m)} frames at {self.fps:g} Hz, at least {self.stride} needed")
        return m[0:n]

    def encode(self, motion: Motion) -> TokenizedMotion:
        """Token ids of ``motion`` (resampled to the tokenizer's rate, the tail that does not fill a token cut)."""
        m = self.at_rate(motion)
        x = torch.as_tensor(motion_features(m.q, m.fps, m.body), dtype=torch.float32)
        device = next(self.model.parameters()).device
        ids = self.model.encode(self.stats.normalise(x)[None].to(device))[0].cpu()
        return TokenizedMotion(ids, self.fps, m.q[0].detach().cpu().double().numpy())

    def decode(self, tokens: TokenizedMotion, body: Body | None = None) -> Motion:
        """The motion of ``tokens`` (``stride`` frames per token) on ``body`` (default the standard body)."""
        cfg, ids = self.model.config, tokens.ids
        shape_ok = ids.ndim == 1 if cfg.n_quantizers == 1 else (ids.ndim == 2 and ids.shape[1] == cfg.n_quantizers)
        if not shape_ok or len(ids) == 0 or int(ids.min()) < 0 or int(ids.max()) >= cfg.codebook_size:
            raise ValueError(
                f"token ids must be (N,{'' if cfg.n_quantizers == 1 else f' {cfg.n_quantizers}'}) in "
                f"[0, {cfg.codebook_size}); got shape {tuple(ids.shape)}"
            )
        device = next(self.model.parameters()).device
        feats = self.stats.denormalise(self.model.decode(tokens.ids[None].long().to(device))[0].double().cpu())
        q = features_to_q(feats, self.fps, tokens.start_q)
        if not np.isfinite(q).all():
            raise ValueError("decoded motion is not finite")
        return Motion(torch.as_tensor(q), self.fps, body or Body.standard())

    def reconstruct(self, motion: Motion) -> tuple[Motion, Motion]:
        """``(original, decoded)``: the motion at the tokenizer's rate and cut to whole tokens, and its
        reconstruction through the tokens, on the motion's own body."""
        m = self.at_rate(motion)
        return m, self.decode(self.encode(m), m.body)
