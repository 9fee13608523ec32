"""NoisyOrScreen: per-fault logistic models on their own observables, joined by a noisy OR.

A repetition is wrong when any of the exercise's faults is present. Fault ``f`` reads only its own
observables (e.g. a curl's upper-arm swing reads the range of the upper arm's angle to the trunk):
``p_f = sigmoid(w_f . z[inputs_f] + b_f)`` on standardised observables ``z``, and the repetition is
wrong with ``p = 1 - prod_f (1 - p_f)`` (the noisy-OR of Pearl 1988). That structure lets the model
be trained two ways: per fault on synthetic clips whose faults are known, and on real clips that are
only labelled good or bad (the faults are then latent). It also says which fault made a repetition
wrong, and every weight reads as "how much more of this observable makes the fault likelier".
Missing observables are put at the standardisation mean (z = 0), as in
:class:`~.form_classifier.FormClassifier`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

__all__ = ["NoisyOrConfig", "NoisyOrScreen"]


@dataclass
class NoisyOrConfig:
    observables: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    inputs: list[list[int]] = field(default_factory=list)  # per fault: indices into ``observables``
    clip_z: float = 8.0


class NoisyOrScreen(nn.Module):
    def __init__(self, config: NoisyOrConfig) -> None:
        super().__init__()
        self.config = config
        n_obs, n_f = len(config.observables), len(config.faults)
        if n_f < 1 or len(config.inputs) != n_f:
            raise ValueError(f"{n_f} faults need as many input lists, got {len(config.inputs)}")
        for f, idx in zip(config.faults, config.inputs, strict=True):
            if not idx or any(not 0 <= i < n_obs for i in idx):
                raise ValueError(f"fault {f!r}: inputs {idx} outside the {n_obs} observables")
        width = max(len(i) for i in config.inputs)
        mask = torch.zeros(n_f, n_obs, dtype=torch.float64)
        for k, idx in enumerate(config.inputs):
            mask[k, idx] = 1.0
        self.register_buffer("mask", mask)
        self.register_buffer("mean", torch.zeros(n_obs, dtype=torch.float64))
        self.register_buffer("std", torch.ones(n_obs, dtype=torch.float64))
        self.weight = nn.Parameter(torch.zeros(n_f, n_obs, dtype=torch.float64))
        self.bias = nn.Parameter(torch.zeros(n_f, dtype=torch.float64))
        self._width = width

    def standardise(self, x: torch.Tensor) -> torch.Tensor:
        z = (x.to(torch.float64) - self.mean) / self.std
        return torch.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0).clamp(-self.config.clip_z, self.config.clip_z)

    def fault_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Raw observables ``(..., O)`` -> per-fault logits ``(..., F)`` (each reads only its inputs)."""
        return self.standardise(x) @ (self.weight * self.mask).T + self.bias

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(p_wrong (...,), p_fault (..., F))``."""
        p_f = torch.sigmoid(self.fault_logits(x))
        # 1 - prod(1 - p) through log1p for precision when every p_f is small.
        p_any = -torch.expm1(torch.log1p(-p_f.clamp(max=1.0 - 1e-12)).sum(-1))
        return p_any, p_f
