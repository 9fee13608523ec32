"""Evaluation of the coach on held-out synthetic clips (subjects unseen in training).

- **Encoder**: joint-angle error (mean absolute, degrees, over the 41 rotational DoF), MPJPE
  (COCO-17 landmarks by forward kinematics of the predicted and the true ``q`` on the clip's
  body, mm, after removing the horizontal root offset), the torque residual
  ``|tau_q[6:] - tau_mtg|`` (N m/kg; ``tau_q`` by inverse dynamics of the predicted motion
  with estimated ground reactions, ``tau_mtg`` the torque generators at the predicted
  activations), exercise accuracy, and the form screen's fault recall and precision.
- **Text**, three coaches on the same clips: the LLM coach with soft tokens, the same LLM
  without them (test-time ablation of the PhysicsBridge), and the rule-based expert coach
  writing from the encoder's detections. Per text: which faults it names
  (:func:`musclepose.language.coach.faults_mentioned`) against the clip's true faults
  (micro-averaged recall and precision), which of its numbers the physics summary does not
  contain (:func:`musclepose.language.coach.ungrounded_numbers`), and which of the facts the
  summary decides it states wrongly (:func:`musclepose.language.coach.misstated_facts`). The
  LLM's own text is scored, and how often the coach replaced it by the rule-based text
  (``fallback_fraction``: empty or ungrounded, :class:`musclepose.pipelines.coach.CoachResult`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..body import forward_kinematics
from ..language.coach import faults_mentioned, misstated_facts, ungrounded_numbers
from ..pipelines.coach_inputs import ENCODER_FPS, grf_features
from ..pipelines.coach_physics import bridge_inputs, encoder_grf
from ..pipelines.labels import detect_faults

__all__ = ["evaluate_encoder", "evaluate_text"]


def _pr(tp: int, fp: int, fn: int) -> dict[str, float]:
    return {"recall": tp / max(1, tp + fn), "precision": tp / max(1, tp + fp), "tp": tp, "fp": fp, "fn": fn}


@torch.no_grad()
def evaluate_encoder(model, examples: list, progress=None) -> dict[str, Any]:
    """Encoder metrics over ``examples`` (``CoachExample`` s) of a ``CoachModel`` (module docstring);
    its heads are decoded with the checkpoint's labels (``model.labels``)."""
    enc = model.encoder
    angle, mpjpe, resid, ex_ok = [], [], [], []
    grf_err: dict[str, list[float]] = {"encoder": [], "seed": []}
    tp = fp = fn = m_tp = m_fp = m_fn = 0
    per_fault: dict[str, list[int]] = {}
    for ex in examples:
        out = enc(ex.inputs[None], ENCODER_FPS)
        body, _, _, _ = model._bodies.get(ex.body)
        q_hat, q = out.q[0].double(), ex.q.double()
        angle.append(float(torch.rad2deg((q_hat[:, 6:] - q[:, 6:]).abs()).mean()))
        idx = body.landmark_indices("coco17")
        a = forward_kinematics(body, q_hat).landmarks[:, idx]
        b = forward_kinematics(body, q).landmarks[:, idx]
        off = (a - b).mean(-2, keepdim=True)
        off[..., 1] = 0.0  # heights are absolute; only the horizontal start offset is arbitrary
        mpjpe.append(float(((a - off) - b).norm(dim=-1).mean()) * 1000.0)
        _, _, tau_q, tau_mtg = bridge_inputs(out, 0, ex.inputs.shape[0], ex.body, model._bodies)
        resid.append(float((tau_q[:, 6:] - tau_mtg).abs().mean()) / ex.body["mass_kg"])
        ex_ok.append(int(model.labels.exercise(out.exercise_logits[0]) == ex.exercise))
        if ex.grf is not None:  # vertical GRF per foot from the predicted motion and contacts (body weights)
            g = grf_features(body, q_hat, ENCODER_FPS)
            feet, contact = torch.stack([g.heel, g.toe], -2), torch.sigmoid(out.contact_logits[0])
            for key, delta in (("encoder", out.grf_delta[0]), ("seed", torch.zeros_like(out.grf_delta[0]))):
                fy = encoder_grf(delta.double(), g.psi, feet, contact.double())[..., 1]
                grf_err[key].append(float((fy - ex.grf[..., 1].double()).pow(2).mean().sqrt()))
        true = set(ex.faults)
        found = {f.name for f in detect_faults(out, 0, ex.exercise, model.labels)}
        tp, fp, fn = tp + len(found & true), fp + len(found - true), fn + len(true - found)
        if model.screen is not None:
            found = {f.name for f in model.screen.screen(ex.exercise, ex.measures)}
            m_tp, m_fp, m_fn = m_tp + len(found & true), m_fp + len(found - true), m_fn + len(true - found)
        for name in found | true:
            c = per_fault.setdefault(name, [0, 0, 0])
            c[0] += name in found and name in true
            c[1] += name in found and name not in true
            c[2] += name in true and name not in found
        if progress:
            progress()
    return {
        "n_clips": len(examples),
        "joint_angle_error_deg": float(np.mean(angle)),
        "mpjpe_mm": float(np.mean(mpjpe)),
        "torque_residual_nm_per_kg": float(np.mean(resid)),
        "exercise_accuracy": float(np.mean(ex_ok)),
        "grf_rmse_bw": float(np.mean(grf_err["encoder"])) if grf_err["encoder"] else None,
        "grf_rmse_bw_seed_model": float(np.mean(grf_err["seed"])) if grf_err["seed"] else None,
        "faults": _pr(tp, fp, fn),  # the encoder's fault heads
        "faults_measured": _pr(m_tp, m_fp, m_fn),  # the measured form screen (per_fault below)
        "per_fault": {k: _pr(*v) for k, v in sorted(per_fault.items())},
    }


def evaluate_text(model, examples: list, max_new_tokens: int = 320, progress=None) -> dict[str, Any]:
    """Text metrics of the three coaches (module docstring) over ``examples``; also returns samples."""
    names = ("llm", "llm_no_soft_tokens", "rule_based")
    counts = {
        n: {"tp": 0, "fp": 0, "fn": 0, "numbers": 0, "ungrounded": 0, "checked": 0, "wrong": 0, "fallback": 0}
        for n in names
    }
    samples = []
    for ex in examples:
        texts = {}
        for soft, name in ((True, "llm"), (False, "llm_no_soft_tokens")):
            r = model.speak(ex.inputs, ex.exercise, ex.analysis, ex.body, ex.peak_moments, ex.measures,
                            soft_tokens=soft, max_new_tokens=max_new_tokens)  # fmt: skip
            # The LLM's own text, scored as written: ``r.text`` is the rule-based one when the
            # coach fell back (CoachResult.fallback), which would credit the LLM with its words.
            texts[name] = r.llm_text if r.llm_text is not None else r.text
            counts[name]["fallback"] += r.fallback is not None
        texts["rule_based"] = r.reference_text
        true = set(ex.faults)
        for name, text in texts.items():
            c = counts[name]
            said = faults_mentioned(text)
            c["tp"] += len(said & true)
            c["fp"] += len(said - true)
            c["fn"] += len(true - said)
            n, bad = ungrounded_numbers(text, r.summary)
            c["numbers"] += n
            c["ungrounded"] += bad
            n, bad = misstated_facts(text, r.summary)
            c["checked"] += n
            c["wrong"] += bad
        if len(samples) < 6:
            detected = [f.name for f in r.faults]
            samples.append(
                {"exercise": ex.exercise, "true_faults": sorted(true), "detected": detected,
                 "prompt_facts": r.summary.lines(), **texts}
            )  # fmt: skip
        if progress:
            progress()
    result = {}
    for name, c in counts.items():
        result[name] = _pr(c["tp"], c["fp"], c["fn"]) | {
            "numbers_stated": c["numbers"],
            "ungrounded_fraction": c["ungrounded"] / max(1, c["numbers"]),
            "facts_checked": c["checked"],
            "misstated_fraction": c["wrong"] / max(1, c["checked"]),
            "fallback_fraction": c["fallback"] / max(1, len(examples)),
        }
    return {"n_clips": len(examples), "coaches": result, "samples": samples}
