"""The motion tokenizer: a 1-D convolutional VQ-VAE over per-frame motion features.

A VQ-VAE (van den Oord et al. 2017, "Neural discrete representation learning") in the shape of
T2M-GPT's (Zhang et al. 2023): the encoder is a 1-D convolution over time, then ``n_down``
blocks of a stride-2 convolution and a residual stack of dilated convolutions (dilations 1, 3,
9: a receptive field of ~2 s at 20 fps), so ``2 ** n_down`` frames become one latent vector;
the decoder mirrors it with nearest-neighbour upsampling. Latents are quantised by
``vector_quantize_pytorch``: one :class:`VectorQuantize` codebook, or with ``n_quantizers > 1``
a :class:`ResidualVQ` (each stage codes the previous stages' residual, as in MoMask, Guo et al.
2024), each codebook updated by exponential moving averages, initialised by k-means on the
first batch and with dead codes (EMA cluster size below ``dead_code`` times the mean) restarted
from the batch.

Inputs are normalised features ``(B, T, F)`` with ``T`` a multiple of ``2 ** n_down``; token
ids are ``(B, T / 2 ** n_down)`` (or ``(..., n_quantizers)``). No I/O, no training loop (that is
:mod:`musclepose.training.motion_tokens`); the features are :mod:`musclepose.pipelines.motion_features`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from vector_quantize_pytorch import ResidualVQ, VectorQuantize

__all__ = ["VQVAE", "VQVAEConfig", "VQVAEOutput"]


@dataclass
class VQVAEConfig:
    """Shape of the tokenizer: ``n_features`` per frame, ``width`` channels, ``n_down`` halvings of
    time, ``depth`` residual blocks per stage, ``code_dim`` latent size, ``codebook_size`` codes
    per quantiser, ``n_quantizers`` stages of residual VQ (1: plain VQ), EMA ``decay``,
    ``dead_code`` restart threshold (a fraction of the mean cluster size), ``fps`` the rate the
    features were made at (a tokenizer is only valid at its own rate)."""

    n_features: int = 115
    width: int = 96
    n_down: int = 2
    depth: int = 3
    code_dim: int = 64
    codebook_size: int = 128
    n_quantizers: int = 1
    decay: float = 0.99
    dead_code: float = 0.1
    quantize_dropout: bool = False
    fps: float = 20.0

    @property
    def stride(self) -> int:
        return 2**self.n_down


@dataclass
class VQVAEOutput:
    recon: torch.Tensor  # (B, T, F)
    ids: torch.Tensor  # (B, N) or (B, N, Q)
    commit: torch.Tensor  # scalar commitment loss (weighted by the quantiser)


class ResBlock(nn.Module):
    """``x + conv(relu(conv_dilated(relu(x))))``, length preserving."""

    def __init__(self, width: int, dilation: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.ReLU(),
            nn.Conv1d(width, width, 3, padding=dilation, dilation=dilation),
            nn.ReLU(),
            nn.Conv1d(width, width, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


def _stack(width: int, depth: int) -> nn.Sequential:
    return nn.Sequential(*[ResBlock(width, 3**i) for i in range(depth)])


class VQVAE(nn.Module):
    """Features -> token ids -> features; see the module docstring."""

    def __init__(self, config: VQVAEConfig) -> None:
        super().__init__()
        self.config = c = config
        enc: list[nn.Module] = [nn.Conv1d(c.n_features, c.width, 3, padding=1), nn.ReLU()]
        for _ in range(c.n_down):
            enc += [nn.Conv1d(c.width, c.width, 4, stride=2, padding=1), _stack(c.width, c.depth)]
        enc += [nn.Conv1d(c.width, c.code_dim, 3, padding=1)]
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = [nn.Conv1d(c.code_dim, c.width, 3, padding=1), nn.ReLU()]
        for _ in range(c.n_down):
            dec += [_stack(c.width, c.depth), nn.Upsample(scale_factor=2, mode="nearest")]
            dec += [nn.Conv1d(c.width, c.width, 3, padding=1)]
        dec += [nn.ReLU(), nn.Conv1d(c.width, c.n_features, 3, padding=1)]
        self.decoder = nn.Sequential(*dec)
        vq = dict(
            dim=c.code_dim,
            codebook_size=c.codebook_size,
            decay=c.decay,
            kmeans_init=True,
            kmeans_iters=10,
            dead_code_threshold_ratio=c.dead_code,
            commitment_weight=1.0,
        )
        if c.n_quantizers > 1:
            self.quantizer: nn.Module = ResidualVQ(
                num_quantizers=c.n_quantizers, quantize_dropout=c.quantize_dropout, **vq
            )
        else:
            self.quantizer = VectorQuantize(**vq)

    def _check(self, x: torch.Tensor) -> None:
        c = self.config
        if x.ndim != 3 or x.shape[-1] != c.n_features or x.shape[1] % c.stride:
            raise ValueError(
                f"features must be (B, T, {c.n_features}) with T a multiple of {c.stride}; got {tuple(x.shape)}"
            )

    def encode_latents(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised features ``(B, T, F)`` -> latents ``(B, T / stride, code_dim)`` (before quantising)."""
        self._check(x)
        return self.encoder(x.transpose(1, 2)).transpose(1, 2)

    def decode_latents(self, z: torch.Tensor) -> torch.Tensor:
        """Quantised latents ``(B, N, code_dim)`` -> features ``(B, N * stride, F)``."""
        return self.decoder(z.transpose(1, 2)).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> VQVAEOutput:
        z = self.encode_latents(x)
        out = self.quantizer(z)
        zq, ids, commit = out[0], out[1], out[2]
        return VQVAEOutput(self.decode_latents(zq), ids, commit.sum())

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Token ids of normalised features ``(B, T, F)``."""
        return self.quantizer(self.encode_latents(x))[1]

    @torch.no_grad()
    def decode(self, ids: torch.Tensor) -> torch.Tensor:
        """Normalised features ``(B, N * stride, F)`` from token ids."""
        return self.decode_latents(self.quantizer.get_output_from_indices(ids))
