"""EventBridge: the event table of a set -> soft tokens, one per repetition and side, in the LLM's embedding space.

Where :class:`~musclepose.models.bridge.PhysicsBridge` summarises a clip's frames into a few
learned tokens, this bridge carries the time series the questions are about: one token per
(repetition, side) from that repetition's events (:meth:`musclepose.signals.rep_events.MotionEvents.token_features`:
phase durations, depth, peak moments, each fault's observable and the phase of its peak) and the
motion encoder's states pooled over the repetition. A feature MLP and a projection of the pooled
states are summed, the tokens attend to each other through ``n_layers`` pre-norm transformer
layers (so that one repetition can be compared with the others before the LLM reads them), and
the result is projected to the LLM's width, LayerNorm-ed and scaled by ``tanh(gate)`` times the
LLM's measured embedding scale (as the PhysicsBridge). Each token then gets an *anchor*: the
LLM's own input embeddings of the repetition's number and of the side's word, which the trainer
copies in from the LLM (:meth:`EventBridge.set_anchors`) and which stay fixed, so that the LLM can
name the repetition and side a token stands for from its first step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["EventBridge", "EventBridgeConfig"]


@dataclass
class EventBridgeConfig:
    n_features: int = 115  # 13 + 6 per fault of the fault list the checkpoint records
    encoder_dim: int = 256  # width of the motion encoder's states (0: none)
    max_reps: int = 16
    d_model: int = 256
    n_layers: int = 2
    n_heads: int = 4
    llm_hidden: int = 576
    embedding_scale: float = 0.14
    gate_init: float = 1.0
    anchor_weight: float = 1.0  # how much of the rep-number and side-word embeddings each token carries


class EventBridge(nn.Module):
    """Soft tokens ``(B, N, llm_hidden)`` from per-(repetition, side) features (module docstring)."""

    def __init__(self, config: EventBridgeConfig):
        super().__init__()
        c = self.config = config
        self.features = nn.Sequential(
            nn.LayerNorm(c.n_features), nn.Linear(c.n_features, c.d_model), nn.GELU(), nn.Linear(c.d_model, c.d_model)
        )
        self.states = nn.Linear(c.encoder_dim, c.d_model) if c.encoder_dim else None
        self.rep_embedding = nn.Embedding(c.max_reps, c.d_model)
        self.side_embedding = nn.Embedding(2, c.d_model)
        layer = nn.TransformerEncoderLayer(c.d_model, c.n_heads, 4 * c.d_model, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)  # fmt: skip
        self.mix = nn.TransformerEncoder(layer, c.n_layers, enable_nested_tensor=False)
        self.out = nn.Linear(c.d_model, c.llm_hidden)
        self.out_norm = nn.LayerNorm(c.llm_hidden)
        self.gate = nn.Parameter(torch.tensor(float(c.gate_init)))
        # Rows 0..max_reps-1: the LLM's embedding of " 1", " 2", ...; then " right", " left" (set_anchors).
        self.register_buffer("anchors", torch.zeros(c.max_reps + 2, c.llm_hidden))

    @torch.no_grad()
    def set_anchors(self, embeddings: torch.Tensor) -> None:
        """Copy the LLM's input embeddings of the repetition numbers and the side words (``(max_reps + 2,
        llm_hidden)``: repetition 1..max_reps, then right, left)."""
        if embeddings.shape != self.anchors.shape:
            raise ValueError(f"anchors must be {tuple(self.anchors.shape)}; got {tuple(embeddings.shape)}")
        self.anchors.copy_(embeddings)

    def forward(
        self,
        features: torch.Tensor,
        rep: torch.Tensor,
        side: torch.Tensor,
        states: torch.Tensor | None = None,
        pad: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``features (B, N, n_features)``, ``rep (B, N)`` 0-based repetition, ``side (B, N)`` 0 right
        1 left, ``states (B, N, encoder_dim)`` the encoder's states pooled over each token's
        repetition, ``pad (B, N)`` True for padding tokens."""
        c = self.config
        rep = rep.clamp(0, c.max_reps - 1)
        x = self.features(features) + self.rep_embedding(rep) + self.side_embedding(side)
        if self.states is not None and states is not None:
            x = x + self.states(states)
        x = self.mix(x, src_key_padding_mask=pad)
        y = self.out_norm(self.out(x)) * torch.tanh(self.gate) * c.embedding_scale
        anchor = self.anchors[rep] + self.anchors[c.max_reps + side]
        return y + c.anchor_weight * anchor
