"""Metrics and splits for form and exercise recognition on real labelled people.

- :func:`binary_scores`: balanced accuracy and F1 (of the "wrong form" class), the numbers reported.
- :func:`grouped_predictions`: leave-one-group-out predictions (a group is a person, or the most
  conservative stand-in for one), with the model fitted by the caller's ``fit_predict`` on the
  other groups only: never a random clip split.
- :func:`recording_sessions`: Pose Trainer's file names do not say who is filmed. Each file is a
  repetition trimmed from a longer recording, and the repetitions of one recording share the camera
  set-up: the image size, where the person stands in it and which side faces the camera. Files are
  clustered on that signature (average linkage); a cluster is a recording session, and a session is
  held out whole. The same person may have been filmed in more than one session, so session-held-out
  can still share a person between training and test: the report says so.
- :func:`meanstd_random_forest`: the baseline of the PushFit push-up set (82.6 %): a scikit-learn
  random forest on each keypoint coordinate's per-video mean and standard deviation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from ..io.pose_trainer import parse_pose_trainer_name, pose_trainer_videos, read_openpose_npy
from ..io.uiprmd import read_uiprmd, uiprmd_episodes
from ..pipelines.form_real import keypoint_rep_faults, kinect_rep_faults
from ..pipelines.recognize import recognize_keypoints, recognize_kinect

__all__ = [
    "binary_scores",
    "evaluate_shipped",
    "grouped_predictions",
    "meanstd_features",
    "meanstd_random_forest",
    "recording_sessions",
]

SESSION_DISTANCE = 0.06  # cluster cut on the set-up signature (fractions of the image height)


def binary_scores(y_true: Sequence[int], y_pred: Sequence[int]) -> dict[str, float]:
    """Balanced accuracy, F1 of class 1 (wrong form), accuracy and counts for binary labels."""
    t, p = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    tp, tn = int(((t == 1) & (p == 1)).sum()), int(((t == 0) & (p == 0)).sum())
    fp, fn = int(((t == 0) & (p == 1)).sum()), int(((t == 1) & (p == 0)).sum())
    tpr = tp / max(tp + fn, 1)
    tnr = tn / max(tn + fp, 1)
    f1 = 2 * tp / max(2 * tp + fp + fn, 1)
    return {"balanced_accuracy": 0.5 * (tpr + tnr), "f1": f1, "accuracy": (tp + tn) / max(len(t), 1),
            "recall": tpr, "specificity": tnr, "n": int(len(t)), "n_wrong": int(t.sum())}  # fmt: skip


def grouped_predictions(
    n: int, groups: Sequence[Any], fit_predict: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> np.ndarray:
    """Leave-one-group-out: for each group, ``fit_predict(train_idx, test_idx)`` returns the
    predictions for ``test_idx`` from a model fitted on ``train_idx`` only; returns them all in order."""
    groups = np.asarray(groups, dtype=object)
    out: list[Any] = [None] * n
    for g in sorted(set(groups.tolist()), key=str):
        te = np.flatnonzero(groups == g)
        tr = np.flatnonzero(groups != g)
        for i, v in zip(te, fit_predict(tr, te), strict=True):
            out[int(i)] = v
    return np.asarray(out)


def _signature(kp: np.ndarray) -> np.ndarray:
    """Camera set-up of one OpenPose-18 clip: neck and hip positions and torso length as fractions of
    the image height (the lowest keypoint), and which arm joints and face points are seen."""
    ok = kp[..., 2] > 0.1
    xy = np.where(ok[..., None], kp[..., :2], np.nan)
    with np.errstate(invalid="ignore"), np.testing.suppress_warnings() as sup:
        sup.filter(RuntimeWarning)
        h = np.nanmax(xy[..., 1]) if np.isfinite(xy[..., 1]).any() else 1.0
        neck = np.nan_to_num(np.nanmedian(xy[:, 1], axis=0))
        hip = np.nan_to_num(np.nanmedian(np.nanmean(xy[:, [8, 11]], axis=1), axis=0))
    vis = ok.mean(0)[[2, 3, 4, 5, 6, 7, 14, 15, 16, 17]]
    return np.concatenate([neck / h, hip / h, [np.linalg.norm(neck - hip) / h], 0.3 * vis])


def recording_sessions(
    clips: Sequence[np.ndarray], exercises: Sequence[str], cut: float = SESSION_DISTANCE
) -> list[str]:
    """A session label per clip (``"<exercise>-<k>"``): average-linkage clusters of the set-up
    signature within each exercise (module docstring)."""
    out = [""] * len(clips)
    exercises = list(exercises)
    for ex in sorted(set(exercises)):
        idx = [i for i, e in enumerate(exercises) if e == ex]
        if len(idx) == 1:
            out[idx[0]] = f"{ex}-1"
            continue
        sig = np.stack([_signature(clips[i]) for i in idx])
        labels = fcluster(linkage(sig, "average"), cut, "distance")
        for i, k in zip(idx, labels, strict=True):
            out[i] = f"{ex}-{int(k)}"
    return out


def meanstd_features(kp: np.ndarray) -> np.ndarray:
    """Per-video mean and standard deviation of every keypoint coordinate (missing = 0), the
    PushFit baseline's input. ``kp``: ``(T, K, D)`` (image keypoints or 3-D joints)."""
    x = np.nan_to_num(np.asarray(kp, dtype=np.float64)).reshape(len(kp), -1)
    return np.concatenate([x.mean(0), x.std(0)])


def meanstd_random_forest(
    x_train: np.ndarray, y_train: Sequence[Any], x_test: np.ndarray, seed: int = 0, n_trees: int = 300
) -> np.ndarray:
    """The random-forest baseline (scikit-learn, 300 trees) fitted on ``x_train`` and applied to ``x_test``."""
    from sklearn.ensemble import RandomForestClassifier  # the baseline's own library; only evaluations need it

    rf = RandomForestClassifier(n_estimators=n_trees, random_state=seed, n_jobs=1)
    rf.fit(x_train, np.asarray(y_train))
    return rf.predict(x_test)


def evaluate_shipped(pose_trainer: Path | None = None, uiprmd: Path | None = None) -> dict[str, Any]:
    """The shipped form models and recognisers (``assets/form``) on labelled data laid out as Pose
    Trainer (``*good*`` / ``*bad*`` ``.npy``) and / or UI-PRMD (``*_positions[_inc].txt[.gz]``):
    per exercise the balanced accuracy and F1 of "wrong form" (judged as ``analyze`` does, the exercise
    given) and the recognition accuracy (the exercise not given). Data the models were trained on
    gives optimistic numbers; held-out numbers are in ``docs/benchmarks_form_real.md``."""
    out: dict[str, Any] = {}
    if pose_trainer is not None:
        files = pose_trainer_videos(pose_trainer)
        per: dict[str, dict[str, list[int]]] = {}
        hits = []
        for f in files:
            ex, good, _ = parse_pose_trainer_name(f)  # type: ignore[misc]
            kp = read_openpose_npy(f)
            verdict = keypoint_rep_faults(kp, 30.0, ex, [(0, len(kp))])[0]
            d = per.setdefault(ex, {"y": [], "p": []})
            d["y"].append(0 if good else 1)
            d["p"].append(1 if verdict.faults else 0)
            hits.append(recognize_keypoints(kp, 30.0).exercise == ex)
        out["pose_trainer"] = _summary(per, hits, len(files))
    if uiprmd is not None:
        files = uiprmd_episodes(uiprmd)
        per = {}
        hits = []
        for f in files:
            ep = read_uiprmd(f)
            verdict = kinect_rep_faults(ep, ep.exercise)  # type: ignore[arg-type]
            d = per.setdefault(str(ep.exercise), {"y": [], "p": []})
            d["y"].append(0 if ep.correct else 1)
            d["p"].append(1 if verdict.faults else 0)
            hits.append(recognize_kinect(ep).exercise == ep.exercise)
        out["uiprmd"] = _summary(per, hits, len(files))
    return out


def _summary(per: dict[str, dict[str, list[int]]], hits: list[bool], n: int) -> dict[str, Any]:
    scores = {ex: binary_scores(d["y"], d["p"]) for ex, d in sorted(per.items())}
    ys = [v for d in per.values() for v in d["y"]]
    ps = [v for d in per.values() for v in d["p"]]
    return {"n": n, "form": scores, "form_overall": binary_scores(ys, ps),
            "recognition_accuracy": float(np.mean(hits)) if hits else float("nan")}  # fmt: skip
