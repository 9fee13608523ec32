"""The text<->motion evaluator: a motion encoder and a text encoder into one embedding space.

As HumanML3D's evaluator (Guo et al. 2022, "Generating diverse and natural 3D human motions from
text", CVPR): the motion encoder is 1-D convolutions that downsample time (x4 there, x8 here: our
clips run to a minute) followed by a bidirectional GRU; the text encoder a bidirectional GRU over
word embeddings (learned here over a vocabulary of the training texts, where HumanML3D uses
GloVe). Both end in a linear map to ``embed_dim`` and unit length; training
(:mod:`musclepose.training.text_motion_eval`) pulls a text and its motion together with the
symmetric InfoNCE loss of TMR (Petrovich et al. 2023).

Inputs: motion features ``(B, T, feature_dim)`` already normalised, with ``lengths (B,)`` in frames;
word ids ``(B, W)`` from :meth:`TextMotionEvaluator.tokenize` (0 = padding, 1 = unknown word).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

__all__ = ["TextMotionEvalConfig", "TextMotionEvaluator", "contrastive_loss", "words"]

PAD, UNK = 0, 1


def words(text: str) -> list[str]:
    """Lower-case words and numbers of ``text`` (punctuation dropped): the text encoder's tokens."""
    return re.findall(r"[a-z]+|\d+", text.lower())


@dataclass
class TextMotionEvalConfig:
    feature_dim: int = 115  # the motion tokenizer's per-frame features (pipelines.motion_features)
    vocab: list[str] = field(default_factory=list)  # word i + 2 (0: padding, 1: unknown)
    word_dim: int = 64
    hidden: int = 128
    embed_dim: int = 128
    max_words: int = 32
    downsample: int = 8  # frames per GRU step (a power of 2): 20 Hz -> 2.5 Hz, some 8 steps a repetition
    temperature: float = 0.1


class MotionEncoder(nn.Module):
    """Features ``(B, T, F)`` -> unit embeddings ``(B, E)``: conv /4 in time, bi-GRU, masked mean."""

    def __init__(self, config: TextMotionEvalConfig):
        super().__init__()
        h = config.hidden
        n_down = max(config.downsample, 1).bit_length() - 1
        if 2**n_down != config.downsample:
            raise ValueError(f"downsample must be a power of 2; got {config.downsample}")
        self.downsample = 2**n_down
        layers: list[nn.Module] = []
        for i in range(n_down):
            layers += [nn.Conv1d(config.feature_dim if i == 0 else h, h, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        self.conv = nn.Sequential(*layers)
        self.gru = nn.GRU(h, h, batch_first=True, bidirectional=True)
        self.out = nn.Sequential(nn.Linear(4 * h, h), nn.LeakyReLU(0.2), nn.Linear(h, config.embed_dim))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3:
            raise ValueError(f"motion features must be (B, T, F); got {tuple(x.shape)}")
        y = self.conv(x.transpose(1, 2)).transpose(1, 2)  # (B, T / downsample, H)
        n = torch.div(lengths.to(y.device), self.downsample, rounding_mode="floor").clamp(1, y.shape[1])
        out, last = self.gru(pack_padded_sequence(y, n.cpu(), batch_first=True, enforce_sorted=False))
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=y.shape[1])
        mask = (torch.arange(y.shape[1], device=y.device)[None] < n[:, None]).to(out.dtype)
        mean = (out * mask[..., None]).sum(1) / n[:, None].to(out.dtype)
        z = self.out(torch.cat([mean, last.transpose(0, 1).flatten(1)], -1))
        return F.normalize(z, dim=-1)


class TextEncoder(nn.Module):
    """Word ids ``(B, W)`` -> unit embeddings ``(B, E)``: word embeddings, bi-GRU final states."""

    def __init__(self, config: TextMotionEvalConfig):
        super().__init__()
        self.embed = nn.Embedding(len(config.vocab) + 2, config.word_dim, padding_idx=PAD)
        self.gru = nn.GRU(config.word_dim, config.hidden, batch_first=True, bidirectional=True)
        self.out = nn.Sequential(
            nn.Linear(2 * config.hidden, config.hidden), nn.LeakyReLU(0.2), nn.Linear(config.hidden, config.embed_dim)
        )

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        n = (ids != PAD).sum(1).clamp(min=1)
        _, last = self.gru(pack_padded_sequence(self.embed(ids), n.cpu(), batch_first=True, enforce_sorted=False))
        return F.normalize(self.out(last.transpose(0, 1).flatten(1)), dim=-1)


class TextMotionEvaluator(nn.Module):
    """The two encoders; :meth:`tokenize` maps texts to word ids with the config's vocabulary."""

    def __init__(self, config: TextMotionEvalConfig):
        super().__init__()
        self.config = config
        self.motion = MotionEncoder(config)
        self.text = TextEncoder(config)
        self._index = {w: i + 2 for i, w in enumerate(config.vocab)}

    def tokenize(self, texts: list[str]) -> torch.Tensor:
        """``(B, W)`` word ids, padded with 0 and cut at ``max_words``; unknown words are 1."""
        rows = [[self._index.get(w, UNK) for w in words(t)][: self.config.max_words] or [UNK] for t in texts]
        ids = torch.zeros(len(rows), max(len(r) for r in rows), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
        return ids

    def embed_motion(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.motion(x, lengths)

    def embed_text(self, ids: torch.Tensor) -> torch.Tensor:
        return self.text(ids)


def contrastive_loss(
    text: torch.Tensor, motion: torch.Tensor, temperature: float, same: torch.Tensor | None = None
) -> torch.Tensor:
    """Symmetric InfoNCE over a batch of paired unit embeddings ``(B, E)`` (TMR, Petrovich et al.
    2023); ``same (B, B)`` bool marks pairs that say the same thing, dropped as negatives."""
    logits = text @ motion.T / temperature
    if same is not None:
        logits = logits.masked_fill(same & ~torch.eye(len(text), dtype=torch.bool, device=text.device), -1e4)
    target = torch.arange(len(text), device=text.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
