"""The IMU pose model in ONNX: export of its streaming graph and running it with onnxruntime.

:func:`export_onnx` writes :class:`~musclepose.models.hdt.StreamingHDT` (the newest ``1..window``
frames of features in, the newest frame's pose, log-variances, root velocity and exercise
logits out; the frame count is a dynamic axis) with ``torch.onnx.export`` and checks it with
``onnx.checker``; a JSON beside it (``<file>.json``) holds what the graph does not: the
temperature, label lists, slots, rate and window. :class:`OnnxIMUPose` runs it with onnxruntime
on one thread (the deployment setting) and :func:`max_difference` compares it with torch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..io.atomic import atomic_write
from ..models.hdt import StreamingHDT
from .imu_pose import IMUPoseModel

__all__ = ["OUTPUTS", "OnnxIMUPose", "export_onnx", "max_difference"]

OUTPUTS = ("rot6", "logvar", "vel", "vel_logvar", "exercise_logits")


def export_onnx(model: IMUPoseModel, path: str | Path, opset: int = 17) -> Path:
    """Write the streaming graph of ``model`` to ``path`` (+ ``path.json``); returns ``path``."""
    import onnx  # the optional [onnx] extra

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = StreamingHDT(model.model.float().eval()).eval()
    w = model.model.config.window
    x = torch.zeros(1, w, model.model.config.n_inputs)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.onnx.export(
        net, (x,), str(tmp), input_names=["features"], output_names=list(OUTPUTS), opset_version=opset,
        dynamic_axes={"features": {1: "frames"}}, dynamo=False,
    )  # fmt: skip
    onnx.checker.check_model(onnx.load(str(tmp)))
    tmp.replace(path)
    meta = {
        "window": w, "n_inputs": model.model.config.n_inputs, "temperature": model.temperature,
        "two_sigma": model.calibration.two_sigma, "calibration": model.calibration.to_dict(),
        "exercises": list(model.labels.exercises), "slots": model.extra.get("slots"),
        "model_fps": model.extra.get("model_fps"), "outputs": list(OUTPUTS),
    }  # fmt: skip
    with atomic_write(path.with_suffix(path.suffix + ".json")) as fh:
        fh.write(json.dumps(meta, indent=2) + "\n")
    return path


class OnnxIMUPose:
    """An exported graph in onnxruntime (``threads`` intra-op threads, one by default)."""

    def __init__(self, path: str | Path, threads: int = 1):
        import onnxruntime as ort  # the optional [onnx] extra

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        meta = Path(str(path) + ".json")
        self.meta: dict[str, Any] = json.loads(meta.read_text()) if meta.is_file() else {}

    def __call__(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """``features (1, t, F)`` float32, ``1 <= t <= window`` -> the newest frame's outputs by name."""
        out = self.session.run(None, {"features": np.ascontiguousarray(features, dtype=np.float32)})
        return dict(zip(OUTPUTS, out, strict=True))


@torch.no_grad()
def max_difference(model: IMUPoseModel, onnx_model: OnnxIMUPose, windows: list[torch.Tensor]) -> float:
    """Largest absolute difference of any output between torch and onnxruntime over ``windows (1, t, F)``."""
    net = StreamingHDT(model.model.float().eval()).eval()
    worst = 0.0
    for x in windows:
        ref = net(x.float())
        got = onnx_model(x.numpy())
        for name, r in zip(OUTPUTS, ref, strict=True):
            worst = max(worst, float(np.abs(got[name] - r.numpy()).max()))
    return worst
