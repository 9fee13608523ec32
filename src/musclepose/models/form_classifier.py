"""FormClassifier: a repetition's feature vector -> class logits (an exercise, or correct / incorrect).

A linear (multinomial logistic) model, or one hidden ReLU layer, over standardised features. The
standardisation (training mean and spread) is part of the weights, so the checkpoint alone turns
raw features into logits; a missing feature (NaN) is put at the training mean (z = 0), and z is
clipped to +-``clip_z`` so that a wild value from a bad detection cannot dominate. The config holds
the feature names and the class names (the label map) in output order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

__all__ = ["FormClassifier", "FormClassifierConfig"]


@dataclass
class FormClassifierConfig:
    feature_names: list[str] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    hidden: int = 0  # 0: linear
    dropout: float = 0.0
    clip_z: float = 8.0


class FormClassifier(nn.Module):
    def __init__(self, config: FormClassifierConfig) -> None:
        super().__init__()
        self.config = config
        n_in, n_out = len(config.feature_names), len(config.classes)
        if n_in < 1 or n_out < 1:
            raise ValueError(f"need features and classes, got {n_in} and {n_out}")
        self.register_buffer("mean", torch.zeros(n_in, dtype=torch.float64))
        self.register_buffer("std", torch.ones(n_in, dtype=torch.float64))
        if config.hidden > 0:
            self.net = nn.Sequential(
                nn.Linear(n_in, config.hidden, dtype=torch.float64), nn.ReLU(), nn.Dropout(config.dropout),
                nn.Linear(config.hidden, n_out, dtype=torch.float64),
            )  # fmt: skip
        else:
            self.net = nn.Sequential(nn.Linear(n_in, n_out, dtype=torch.float64))

    def standardise(self, x: torch.Tensor) -> torch.Tensor:
        """Raw features ``(..., F)`` -> clipped z-scores, NaN -> 0."""
        z = (x.to(torch.float64) - self.mean) / self.std
        return torch.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0).clamp(-self.config.clip_z, self.config.clip_z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Raw features ``(..., F)`` -> logits ``(..., C)``."""
        return self.net(self.standardise(x))
