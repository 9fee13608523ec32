"""Training the text<->motion evaluator (:mod:`musclepose.models.text_motion_eval`) on synthetic pairs.

Pairs come from :mod:`.text_motion_data`; split by random stream: pair ``i`` of a split with seed
``s`` draws its text, subject and parameters from ``numpy.random.default_rng([s, i])`` (train
``seed``, validation ``seed + 1``; the benchmark's test uses another). Features as
:func:`musclepose.pipelines.text_motion_eval.evaluator_features` (20 Hz), normalised with the
training pairs' :class:`~musclepose.pipelines.motion_features.FeatureStats`. The loss is the
symmetric InfoNCE with pairs whose texts ask for the same thing dropped as negatives; the epoch
with the lowest validation loss is kept. The checkpoint: ``config.json`` (the vocabulary inside
the model config, the feature stats and the training command in ``extra``) +
``evaluator.safetensors``.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..models.text_motion_eval import TextMotionEvalConfig, TextMotionEvaluator, contrastive_loss, words
from ..pipelines.motion_features import FeatureStats
from ..pipelines.text_motion_eval import FPS, evaluator_features
from .checkpoint import save_checkpoint
from .text_motion_data import TextSpec, render_truth, sample_text

__all__ = ["PairSet", "TextMotionEvalTrainConfig", "build_pairs", "train_text_motion_eval"]


@dataclass
class TextMotionEvalTrainConfig:
    train_pairs: int = 1200
    val_pairs: int = 192
    seed: int = 0
    epochs: int = 15
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    embed_dim: int = 128
    hidden: int = 96


@dataclass
class PairSet:
    """Texts, what each asks for, and the features ``(T_i, 115)`` of each text's motion."""

    texts: list[str]
    specs: list[TextSpec]
    feats: list[np.ndarray]

    def save(self, path: Path) -> None:
        lengths = np.array([len(f) for f in self.feats])
        specs = np.array([list(map(str, dataclasses.astuple(s))) for s in self.specs])
        np.savez_compressed(path, feats=np.concatenate(self.feats), lengths=lengths, texts=np.array(self.texts),
                            specs=specs)  # fmt: skip

    @classmethod
    def load(cls, path: Path) -> PairSet:
        z = np.load(path)
        cuts = np.cumsum(z["lengths"])[:-1]

        def spec(row: np.ndarray) -> TextSpec:
            v = [None if x == "None" else x for x in row]
            return TextSpec(v[0], None if v[1] is None else int(v[1]), *v[2:])

        return cls([str(t) for t in z["texts"]], [spec(r) for r in z["specs"]], np.split(z["feats"], cuts))


def build_pairs(n: int, seed: int, progress: Callable[[int], None] | None = None) -> PairSet:
    """``n`` pairs of the split with random stream ``seed`` (module docstring)."""
    texts, specs, feats = [], [], []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        text, spec = sample_text(rng)
        texts.append(text)
        specs.append(spec)
        feats.append(evaluator_features(render_truth(text, rng)))
        if progress:
            progress(i + 1)
    return PairSet(texts, specs, feats)


def _batch(model: TextMotionEvaluator, stats: FeatureStats, pairs: PairSet, idx: np.ndarray):
    lengths = torch.tensor([len(pairs.feats[i]) for i in idx])
    x = torch.zeros(len(idx), int(lengths.max()), pairs.feats[idx[0]].shape[1])
    for j, i in enumerate(idx):
        x[j, : lengths[j]] = stats.normalise(torch.as_tensor(pairs.feats[i]))
    keys = [pairs.specs[i] for i in idx]
    same = torch.tensor([[a == b for b in keys] for a in keys])
    return x, lengths, model.tokenize([pairs.texts[i] for i in idx]), same


def _evaluate(model: TextMotionEvaluator, stats: FeatureStats, pairs: PairSet) -> tuple[float, float]:
    """Validation loss and top-1 retrieval of a motion's text within batches of 32."""
    model.eval()
    losses, hits, n = [], 0, 0
    with torch.no_grad():
        for a in range(0, len(pairs.texts) - 31, 32):
            x, lengths, ids, same = _batch(model, stats, pairs, np.arange(a, a + 32))
            t, m = model.embed_text(ids), model.embed_motion(x, lengths)
            losses.append(float(contrastive_loss(t, m, model.config.temperature, same)))
            hits += int(((m @ t.T).argmax(1) == torch.arange(32)).sum())
            n += 32
    model.train()
    return float(np.mean(losses)), hits / max(n, 1)


def train_text_motion_eval(
    cfg: TextMotionEvalTrainConfig,
    out: str | Path,
    train: PairSet,
    val: PairSet,
    extra: dict[str, Any] | None = None,
    log: Callable[[str], None] = print,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Train on ``train``, keep the epoch best on ``val``, save to ``out``; a summary of the run."""
    torch.manual_seed(cfg.seed)
    t0 = time.perf_counter()
    counts = Counter(w for t in train.texts for w in words(t))
    vocab = sorted(counts, key=lambda w: (-counts[w], w))
    model = TextMotionEvaluator(TextMotionEvalConfig(vocab=vocab, hidden=cfg.hidden, embed_dim=cfg.embed_dim))
    stats = FeatureStats.fit(train.feats)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * (len(train.texts) // cfg.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=max(steps, 1), pct_start=0.1)
    rng = np.random.default_rng(cfg.seed)
    best: dict[str, Any] = {"val_loss": float("inf")}
    best_state = None
    for epoch in range(cfg.epochs):
        order = rng.permutation(len(train.texts))
        losses = []
        for a in range(0, len(order) - cfg.batch_size + 1, cfg.batch_size):
            x, lengths, ids, same = _batch(model, stats, train, order[a : a + cfg.batch_size])
            loss = contrastive_loss(model.embed_text(ids), model.embed_motion(x, lengths), model.config.temperature,
                                    same)  # fmt: skip
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
        val_loss, val_top1 = _evaluate(model, stats, val)
        log(
            f"epoch {epoch + 1}/{cfg.epochs}: train {np.mean(losses):.3f}  val {val_loss:.3f}  val top-1 {val_top1:.3f}"
        )
        if val_loss < best["val_loss"]:
            best = {"epoch": epoch + 1, "val_loss": val_loss, "val_top1_of_32": val_top1}
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    summary = {"best": best, "seconds": time.perf_counter() - t0, "train_config": dataclasses.asdict(cfg),
               "train_pairs": len(train.texts), "val_pairs": len(val.texts)}  # fmt: skip
    features = {"fps": FPS, **stats.to_json()}
    save_checkpoint(out, {"evaluator": model}, {"features": features, "training": summary, **(extra or {})},
                    overwrite=overwrite)  # fmt: skip
    return summary
