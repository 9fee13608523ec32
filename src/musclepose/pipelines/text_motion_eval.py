"""Running the text<->motion evaluator: motions and texts -> embeddings, from a checkpoint folder.

The checkpoint (default: the shipped ``assets/text_motion_eval``) is ``config.json`` +
``evaluator.safetensors`` (:mod:`.checkpoint`); ``config.json``'s ``extra.features`` holds the
feature rate and normalisation (:class:`.motion_features.FeatureStats`) and the model config the
vocabulary. A motion is resampled to that rate (20 Hz, as HumanML3D) and described by the motion
tokenizer's 115 features per frame (:func:`.motion_features.motion_features`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..io.errors import FormatError
from ..models.text_motion_eval import TextMotionEvaluator
from ..motion.core import Motion
from .checkpoint import load_checkpoint
from .motion_features import FeatureStats, motion_features

__all__ = ["DEFAULT_EVALUATOR", "FPS", "TextMotionEval", "evaluator_features"]

DEFAULT_EVALUATOR = Path(__file__).resolve().parents[1] / "assets" / "text_motion_eval"
FPS = 20.0


def evaluator_features(motion: Motion, fps: float = FPS) -> np.ndarray:
    """``(T, 115)`` float32 un-normalised features of ``motion`` resampled to ``fps``."""
    m = motion if abs(motion.fps - fps) < 1e-6 * fps else motion.resampled(fps)
    return motion_features(m.q, fps, m.body).astype(np.float32)


class TextMotionEval:
    """The evaluator of a checkpoint folder: :meth:`embed_motions` and :meth:`embed_texts` give unit
    embeddings ``(N, E)`` (numpy float64) in one space, where a text lies near its motion."""

    def __init__(self, model: TextMotionEvaluator, stats: FeatureStats, fps: float = FPS):
        self.model = model.eval()
        self.stats = stats
        self.fps = fps

    @classmethod
    def load(cls, folder: str | Path = DEFAULT_EVALUATOR) -> TextMotionEval:
        parts, extra = load_checkpoint(folder)
        model = parts.get("evaluator")
        if not isinstance(model, TextMotionEvaluator):
            raise FormatError(Path(folder) / "config.json", "no text-motion evaluator part", field="parts.evaluator")
        try:
            stats = FeatureStats.from_json(extra["features"])
            fps = float(extra["features"]["fps"])
        except (KeyError, TypeError, ValueError) as err:
            raise FormatError(
                Path(folder) / "config.json", f"bad feature stats ({err})", field="extra.features"
            ) from None
        return cls(model, stats, fps)

    @torch.no_grad()
    def embed_features(self, feats: list[np.ndarray], batch: int = 64) -> np.ndarray:
        """Embeddings of un-normalised feature arrays ``(T_i, 115)``."""
        out = []
        for i in range(0, len(feats), batch):
            chunk = feats[i : i + batch]
            lengths = torch.tensor([len(f) for f in chunk])
            x = torch.zeros(len(chunk), int(lengths.max()), chunk[0].shape[1])
            for j, f in enumerate(chunk):
                x[j, : len(f)] = self.stats.normalise(torch.as_tensor(f, dtype=torch.float32))
            out.append(self.model.embed_motion(x, lengths).double().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.model.config.embed_dim))

    def embed_motions(self, motions: list[Motion]) -> np.ndarray:
        return self.embed_features([evaluator_features(m, self.fps) for m in motions])

    @torch.no_grad()
    def embed_texts(self, texts: list[str], batch: int = 256) -> np.ndarray:
        out = [
            self.model.embed_text(self.model.tokenize(texts[i : i + batch])).double().numpy()
            for i in range(0, len(texts), batch)
        ]
        return np.concatenate(out) if out else np.zeros((0, self.model.config.embed_dim))
