"""PhysicsBridge: physics and encoder states -> a few soft tokens in the LLM's embedding space.

The original design (seed 000, ``IMPLEMENTATION_NOTES.md``): project the 266-d physics
vector per frame (q 47, qd 47, tau_q 47, tau_mtg 41, activations 82, contact 2) to the model
width, fuse it with the encoder's states, add a sinusoidal temporal positional encoding, let
8 learned event tokens (initialised N(0, 0.02)) read the sequence through 2 pre-norm
cross-attention layers (4 heads), project them to the LLM's hidden size (width -> 3072 ->
GELU -> hidden), LayerNorm, and scale them by ``tanh(gate)`` (gate initialised 0.5) times
the LLM's embedding scale. The seed hard-coded that scale as 0.03 (Phi-3.5's embedding
std); here it is a config value that the caller measures from the LLM it uses
(``LLM.embedding_scale``: SmolLM2's is about 0.14), so the soft tokens start at the size of
the model's own token embeddings. Padded frames are masked out of the attention.

Physics inputs are normalised per channel by fixed scales (``PHYSICS_SCALES``: rad, rad/s,
N m/kg...), so the projection sees numbers of order one whatever the body mass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["PHYSICS_DIM", "BridgeConfig", "PhysicsBridge", "physics_features", "sinusoidal_encoding"]

# q 47, qd 47, tau_q 47, tau_mtg 41, activations 82, contact 2
PHYSICS_DIM = 47 + 47 + 47 + 41 + 82 + 2


@dataclass
class BridgeConfig:
    physics_dim: int = PHYSICS_DIM
    d_model: int = 256
    n_event_tokens: int = 8
    n_layers: int = 2
    n_heads: int = 4
    ff_hidden: int = 3072
    llm_hidden: int = 576  # SmolLM2-135M; set from the LLM
    embedding_scale: float = 0.14  # measured from the LLM's input embeddings (std)
    gate_init: float = 0.5
    dropout: float = 0.0


def sinusoidal_encoding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """``(..., T)`` positions (frames or seconds) -> ``(..., T, dim)`` sine/cosine features (Vaswani 2017)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=t.dtype, device=t.device) / half)
    ang = t[..., None] * freqs
    return torch.cat([torch.sin(ang), torch.cos(ang)], dim=-1)


def physics_features(
    body_mass_kg: torch.Tensor,
    q: torch.Tensor,
    qd: torch.Tensor,
    tau_q: torch.Tensor,
    tau_mtg: torch.Tensor,
    activations: torch.Tensor,
    contact: torch.Tensor,
) -> torch.Tensor:
    """The 266-d physics vector per frame, normalised: angles in rad (root translation relative to
    the first frame), velocities / 10, moments in N m/kg, activations and contact as they are.

    Shapes: ``(B, T, 47)`` for q, qd, tau_q; ``(B, T, 41)``, ``(B, T, 82)``, ``(B, T, 2)``;
    ``body_mass_kg (B,)``.
    """
    m = body_mass_kg.to(q.dtype)[:, None, None]
    q = torch.cat([q[..., :3] - q[:, :1, :3], q[..., 3:]], dim=-1)
    return torch.cat([q, qd / 10.0, tau_q / m, tau_mtg / m, activations, contact], dim=-1)


class CrossAttentionBlock(nn.Module):
    """Pre-norm cross-attention of the event tokens over the sequence, then an MLP."""

    def __init__(self, c: BridgeConfig):
        super().__init__()
        self.norm_q = nn.LayerNorm(c.d_model)
        self.norm_kv = nn.LayerNorm(c.d_model)
        self.attn = nn.MultiheadAttention(c.d_model, c.n_heads, dropout=c.dropout, batch_first=True)
        self.norm_ff = nn.LayerNorm(c.d_model)
        self.ff = nn.Sequential(nn.Linear(c.d_model, 4 * c.d_model), nn.GELU(), nn.Linear(4 * c.d_model, c.d_model))

    def forward(self, tokens: torch.Tensor, seq: torch.Tensor, pad: torch.Tensor | None) -> torch.Tensor:
        kv = self.norm_kv(seq)
        tokens = tokens + self.attn(self.norm_q(tokens), kv, kv, key_padding_mask=pad, need_weights=False)[0]
        return tokens + self.ff(self.norm_ff(tokens))


class PhysicsBridge(nn.Module):
    """Soft tokens ``(B, n_event_tokens, llm_hidden)`` from physics and encoder states (module docstring)."""

    def __init__(self, config: BridgeConfig):
        super().__init__()
        c = self.config = config
        self.physics_proj = nn.Linear(c.physics_dim, c.d_model)
        self.fuse = nn.Linear(2 * c.d_model, c.d_model)
        self.event_tokens = nn.Parameter(torch.randn(c.n_event_tokens, c.d_model) * 0.02)
        self.blocks = nn.ModuleList(CrossAttentionBlock(c) for _ in range(c.n_layers))
        self.out = nn.Sequential(nn.Linear(c.d_model, c.ff_hidden), nn.GELU(), nn.Linear(c.ff_hidden, c.llm_hidden))
        self.out_norm = nn.LayerNorm(c.llm_hidden)
        self.gate = nn.Parameter(torch.tensor(float(c.gate_init)))

    def forward(
        self, physics: torch.Tensor, states: torch.Tensor, pad: torch.Tensor | None = None, fps: float | None = None
    ) -> torch.Tensor:
        """``physics (B, T, physics_dim)``, encoder ``states (B, T, d_model)``, ``pad (B, T)`` True
        where a frame is padding; positions in seconds when ``fps`` is given, else in frames."""
        b, t, _ = physics.shape
        x = self.fuse(torch.cat([self.physics_proj(physics), states], dim=-1))
        pos = torch.arange(t, dtype=x.dtype, device=x.device)
        x = x + sinusoidal_encoding(pos / fps if fps else pos, self.config.d_model)
        tokens = self.event_tokens.expand(b, -1, -1)
        for block in self.blocks:
            tokens = block(tokens, x, pad)
        y = self.out_norm(self.out(tokens))  # unit variance per token
        return y * torch.tanh(self.gate) * self.config.embedding_scale
