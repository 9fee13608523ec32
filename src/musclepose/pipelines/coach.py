"""The trained coach at inference: a checkpoint folder -> analysis, physics, form screen, coaching text.

:meth:`CoachModel.load` reads a folder written by :func:`musclepose.training.coach.train_coach`
(``encoder`` and ``bridge`` safetensors, the LoRA ``adapter``, ``form_screen.json``, and
``config.json`` with the label lists its heads are decoded with, :mod:`.labels`) onto the LLM it
was trained with (or another by ``llm=``). The shipped default (:func:`default_checkpoint`) lives
in the package; ``$MUSCLEPOSE_COACH`` points elsewhere. :meth:`CoachModel.coach` takes a
:class:`~musclepose.motion.Motion` or the ``(T, 7)`` channels of a clip: the analysis, kinetics
(inverse dynamics with estimated ground reactions, for a motion), the encoder over channels and
keypoints (a motion's COCO-17 landmarks seen from the front), the form screen (measured on a
motion; the encoder's fault heads for channels only), the PhysicsBridge's soft tokens and the
LLM's text (greedy unless a temperature is given), in a :class:`CoachResult`. A text that is
empty or not grounded in the measurements (:func:`~musclepose.language.coach.grounding_problems`)
is replaced by the rule-based text, and ``CoachResult.fallback`` says why.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..body import DOF_NAMES, Body
from ..catalogue import EXERCISES, grade_cap
from ..io.clip import CLIP_CHANNELS, read_clip
from ..io.errors import check_input_path
from ..io.load import load_motion
from ..io.load_common import DEFAULT_MASS_KG
from ..io.video import is_video_input
from ..language.backend import EMBEDDED_NAME, LLMConfig, load_llm
from ..language.coach import coach_summary, grounding_problems, peak_extensor_moments, target_text
from ..language.prompts import SYSTEM_PROMPT, DetectedFault, PhysicsSummary, build_prompt
from ..motion.kinetics import compute_kinetics
from ..motion.video_fit import compute_threads
from ..signals import analyze_motion
from ..signals.rep_events import MotionEvents
from ..signals.waves import run_analysis
from .analysis import is_clip_json, loader_info, recording_kinetics
from .ask import encoder_body, result_events, with_sides
from .checkpoint import check_adapter, load_checkpoint, read_config
from .coach_inputs import ENCODER_FPS, decimation, encoder_inputs, keypoints_from_motion
from .coach_physics import BodyCache, bridge_inputs
from .form_screen import FormScreen, fault_measures, grf_in_bw, is_video
from .imu_pose import imu_file_motion, is_imu_input
from .labels import LabelMap, detect_faults
from .results import ClipResult
from .video_pose import video_file_motion

__all__ = ["CoachModel", "CoachResult", "default_checkpoint"]


#: What the coach calls a recording that does not show the exercise it was given or recognised.
UNKNOWN_MOVEMENT = "unknown movement"


def default_checkpoint() -> Path:
    """The shipped coach checkpoint (``$MUSCLEPOSE_COACH`` overrides)."""
    env = os.environ.get("MUSCLEPOSE_COACH")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "assets" / "coach"


@dataclass
class CoachResult:
    """What the coach found and said; ``clip`` is the analysed clip (None from :meth:`CoachModel.speak`)."""

    text: str
    reference_text: str  # the rule-based expert coach on the same facts and detected faults
    summary: PhysicsSummary
    prompt: str
    faults: list[DetectedFault]
    clip: ClipResult | None = None
    timings_s: dict[str, float] = field(default_factory=dict)
    # Set when the LLM's text could not be shown (empty, or not grounded in the measurements):
    # ``text`` is then the rule-based text, ``llm_text`` what the LLM wrote, ``fallback`` why.
    fallback: str | None = None
    llm_text: str | None = None
    # Per repetition and side: what the answers to questions come from (.motion_events, .ask).
    events: MotionEvents | None = None


def _quiet(stage: str) -> None:
    pass


class CoachModel:
    """Encoder + PhysicsBridge + LLM with its LoRA adapter (module docstring); ``labels`` name the
    encoder's heads (default: the lists ``extra`` records)."""

    def __init__(
        self, encoder, bridge, llm, extra: dict[str, Any], screen: FormScreen | None = None,
        labels: LabelMap | None = None,
    ) -> None:  # fmt: skip
        self.encoder, self.bridge, self.llm, self.extra = encoder.eval(), bridge.eval(), llm, extra
        self.screen = screen
        self.labels = labels if labels is not None else LabelMap.from_config({"extra": extra}, "CoachModel")
        self._bodies = BodyCache()

    @classmethod
    def load_physics(cls, folder: str | Path | None = None) -> CoachModel:
        """The coach without its LLM (encoder, PhysicsBridge, form screen): everything but the LLM's
        text, in a fraction of the load time (rule-based answers to questions, the report)."""
        folder = Path(folder) if folder is not None else default_checkpoint()
        labels = LabelMap.from_config(read_config(folder), folder).check(folder)
        parts, extra = load_checkpoint(folder)
        if "encoder" not in parts or "bridge" not in parts:
            raise ValueError(f"{folder}: coach checkpoint has no encoder or bridge part")
        screen = FormScreen.load(folder / "form_screen.json") if (folder / "form_screen.json").is_file() else None
        return cls(parts["encoder"].float(), parts["bridge"].float(), None, extra, screen, labels)

    @classmethod
    def load(cls, folder: str | Path | None = None, llm: Any = None, device: str = "cpu") -> CoachModel:
        """``llm``: None (the checkpoint's), a name or local folder, or a loaded ``LLM`` (tests).

        Raises ``ValueError`` naming the checkpoint if its labels name an exercise or fault this
        code does not know, or do not fit its heads."""
        from peft import PeftModel  # heavy, optional until a coach is loaded

        folder = Path(folder) if folder is not None else default_checkpoint()
        labels = LabelMap.from_config(read_config(folder), folder).check(folder)
        parts, extra = load_checkpoint(folder)
        for k in ("encoder", "bridge"):
            if k not in parts:
                raise ValueError(f"{folder}: coach checkpoint has no {k!r} part (train the LM stage first)")
        cfg = parts["encoder"].config
        labels.check_heads(folder, cfg.n_exercises, cfg.n_faults)
        adapter = check_adapter(folder)
        if llm is None or isinstance(llm, str):
            trained = extra.get("train_config") if isinstance(extra.get("train_config"), dict) else {}
            name = llm or str(trained.get("llm") or EMBEDDED_NAME)
            model = load_llm(LLMConfig(name_or_path=name, device=device))
        else:
            model = llm
        model.model = PeftModel.from_pretrained(model.model, adapter, is_trainable=False)
        model.model.eval()
        screen = FormScreen.load(folder / "form_screen.json") if (folder / "form_screen.json").is_file() else None
        return cls(parts["encoder"].float(), parts["bridge"].float(), model, extra, screen, labels)

    # ------------------------------------------------------------------ the pipeline
    def coach_file(
        self,
        path: Path,
        exercise: str | None = None,
        *,
        osim: Path | None = None,
        static: Path | None = None,
        mass_kg: float | None = None,
        sex: str = "male",
        soft_tokens: bool = True,
        temperature: float = 0.0,
        progress: Callable[[str], None] = _quiet,
        height_m: float = 1.75,
        loads: Path | None = None,
        loads_data: Path | None = None,
        imu_layout: str = "auto",
        text: bool = True,
    ) -> CoachResult:
        """Coach a recording (kinetics as :func:`.analysis.analyze_file`), a video (file or image folder,
        :func:`.video_pose.video_file_motion` with ``height_m``) or a clip JSON (its channels alone, on a
        1.75 m body of ``mass_kg``, or of the encoder's body-size head without one; its language field is
        never read). ``text`` False: no LLM text (the rule-based one), for questions and the report."""
        path = check_input_path(path, folder_ok=True, what="recording")  # a folder: of video frames
        new_tokens = 320 if text else 0  # text=False: everything but the LLM's text (questions, the report)
        own_mass = mass_kg if mass_kg is not None else DEFAULT_MASS_KG  # inputs that carry no mass of their own
        if is_clip_json(path):
            clip = read_clip(path)
            ex = exercise or (clip.exercise if clip.exercise in EXERCISES else None)
            progress("encoder, physics and coach")
            # No mass given: the encoder's body-size head sizes the body (a clip carries no anthropometry).
            body = Body.standard(1.75, mass_kg, sex) if mass_kg is not None else None
            result = self.coach(clip.as_array(), ex, fps=clip.fps, body=body, soft_tokens=soft_tokens,
                                max_new_tokens=new_tokens, temperature=temperature)  # fmt: skip
        elif is_imu_input(path):  # pose from body-worn IMUs (the HDT); uncertain frames flagged in motion.quality
            body = Body.standard(height_m, own_mass, sex)
            motion, _, _ = imu_file_motion(path, imu_layout, body=body, streaming=True, progress=progress)
            progress("inverse dynamics, ground reactions and muscles")
            with compute_threads(1):
                kin = compute_kinetics(motion)
            progress("encoder, physics and coach")
            result = self.coach(motion, exercise, kinetics=kin, soft_tokens=soft_tokens, max_new_tokens=new_tokens,
                                temperature=temperature)  # fmt: skip
            imu_meta = {**motion.metadata["imu"], "imu_pose": motion.metadata["imu_pose"]}
            result.clip.loader = {"source": str(path), **imu_meta}
        elif is_video_input(path):
            video = video_file_motion(path, height_m=height_m, mass_kg=own_mass, sex=sex, progress=progress)
            progress("inverse dynamics, ground reactions and muscles")
            with compute_threads(1):  # small tensors on a possibly loaded machine (see compute_threads)
                kin = compute_kinetics(video.fit.motion)
            progress("encoder, physics and coach")
            result = self.coach(video.fit.motion, exercise, kinetics=kin, soft_tokens=soft_tokens,
                                max_new_tokens=new_tokens, temperature=temperature)  # fmt: skip
            result.clip.loader, result.clip.video = video.loader_info(), video
        else:
            motion = load_motion(path, model=osim, static=static, mass_kg=mass_kg, sex=sex, progress=progress)
            progress("inverse dynamics, ground reactions and muscles")
            kin = recording_kinetics(motion, path, loads, loads_data)
            progress("encoder, physics and coach")
            result = self.coach(motion, exercise, kinetics=kin, soft_tokens=soft_tokens, max_new_tokens=new_tokens,
                                temperature=temperature)  # fmt: skip
            result.clip.loader = loader_info(motion.metadata)
        result.clip.path = path
        return result

    @torch.no_grad()
    def coach(
        self,
        source: Any,
        exercise: str | None = None,
        *,
        fps: float | None = None,
        body: Any = None,
        soft_tokens: bool = True,
        max_new_tokens: int = 320,
        temperature: float = 0.0,
        kinetics: Any = None,
    ) -> CoachResult:
        """Coach one clip: ``source`` a Motion, or ``(T, 7)`` channels (clip schema order) with ``fps``;
        ``exercise`` None: the encoder's exercise classifier decides."""
        is_motion = hasattr(source, "q") and hasattr(source, "body")
        if exercise is None:
            exercise = self.classify(source, fps)
        if exercise not in EXERCISES:
            raise ValueError(f"exercise {exercise!r}: the coach knows {sorted(EXERCISES)}")
        times: dict[str, float] = {}
        t0 = time.perf_counter()
        if is_motion:
            fps = float(source.fps)
            body = source.body
            keypoints = keypoints_from_motion(source)
            if kinetics is None:
                kinetics = compute_kinetics(source)
            analysis = analyze_motion(source, exercise=exercise, kinetics=kinetics)
            channels = np.stack([analysis.channels[c] for c in CLIP_CHANNELS], 1)
            # Screened only if the recording shows the exercise (no flight in a squat), on its trusted
            # frames (signals.plausibility); otherwise no fault is reported.
            rel = analysis.reliability
            measures = {}
            if analysis.screenable:
                trusted = None if rel is None else rel.trusted
                measures = fault_measures(source, exercise, analysis.to_dict(), step=decimation(fps),
                                          trusted=trusted, grf_bw=grf_in_bw(kinetics))  # fmt: skip
            shown = analysis.channels
        else:
            measures = None
            if fps is None:
                raise ValueError("fps is required for a channels-only clip")
            channels = np.asarray(source, dtype=np.float64)
            keypoints = None
            if body is None:  # the encoder's body-size head (height, mass, sex) gives the body
                x0 = encoder_inputs(channels[:: decimation(fps)], None)
                body = encoder_body(self.encoder(x0[None], ENCODER_FPS).shape[0])
            analysis = analyze_motion(channels, exercise=exercise, fps=fps, body=body)
            shown = {c: channels[:, k] for k, c in enumerate(CLIP_CHANNELS)}
        times["analysis"] = time.perf_counter() - t0
        step = decimation(fps)
        x = encoder_inputs(channels[::step], None if keypoints is None else keypoints[::step])
        info = {"height_m": 1.75, "mass_kg": 70.0, "sex": "male"}
        if body is not None:
            info = {"height_m": body.height_m, "mass_kg": body.mass_kg, "sex": body.sex}
        peaks = None
        if kinetics is not None:
            # Peaks from trusted frames only: an implausible value never reaches the coach.
            rel = analysis.reliability
            ok = (
                rel.trusted_kinetics if rel is not None and len(rel.trusted_kinetics) == kinetics.tau.shape[0] else None
            )
            tau = kinetics.tau.numpy() if ok is None else kinetics.tau.numpy()[ok]
            peaks = (
                peak_extensor_moments(tau, kinetics.motion.body.dof_names, info["mass_kg"], exercise)
                if len(tau)
                else {}
            )
        # A recording that does not show the exercise (a flight in a squat) is said to be unknown, not screened.
        said = exercise if analysis.screenable else UNKNOWN_MOVEMENT
        result = self.speak(x, said, analysis.to_dict(), info, peaks, measures, soft_tokens=soft_tokens,
                            max_new_tokens=max_new_tokens, temperature=temperature,
                            video=is_motion and is_video(source))  # fmt: skip
        capped, why = grade_cap(analysis.grade, [f.severity for f in result.faults])
        if why:
            analysis = replace(analysis, grade_cap=(capped, why))
        result.clip = ClipResult(analysis, channels=shown, motion=source if is_motion else None, kinetics=kinetics,
                                 faults=result.faults, body=body, timings_s=dict(times))  # fmt: skip
        t0 = time.perf_counter()
        result.events = result_events(result, self.encoder, self.screen)  # per repetition and side
        result.faults = result.clip.faults = with_sides(result.faults, result.events)
        times["events"] = time.perf_counter() - t0
        result.timings_s = times | result.timings_s
        return result

    @torch.no_grad()
    def classify(self, source: Any, fps: float | None = None) -> str:
        """The exercise the encoder recognises in a Motion or a ``(T, 7)`` channel array."""
        if hasattr(source, "q") and hasattr(source, "body"):
            run = run_analysis(source)
            channels, keypoints, fps = (
                np.stack([run.channels[c] for c in CLIP_CHANNELS], 1),
                keypoints_from_motion(source),
                source.fps,
            )
        else:
            channels, keypoints = np.asarray(source, dtype=np.float64), None
        step = decimation(fps)
        x = encoder_inputs(channels[::step], None if keypoints is None else keypoints[::step])
        return self.labels.exercise(self.encoder(x[None], ENCODER_FPS).exercise_logits[0])

    @torch.no_grad()
    def speak(
        self,
        x: torch.Tensor,
        exercise: str,
        analysis: dict[str, Any],
        body_info: dict[str, Any],
        peak_moments: dict[str, float] | None = None,
        measures: dict[str, float] | None = None,
        *,
        soft_tokens: bool = True,
        max_new_tokens: int = 320,
        temperature: float = 0.0,
        video: bool = False,
    ) -> CoachResult:
        """From the encoder's input ``x (T, 58)`` at ``ENCODER_FPS`` and the clip's analysis dict:
        form screen, physics, summary and text. ``peak_moments`` None: from the encoder's physics;
        ``measures`` (the fault observables of the motion) None: the encoder's fault heads screen."""
        times: dict[str, float] = {}
        t0 = time.perf_counter()
        out = self.encoder(x[None], ENCODER_FPS)
        phys, states, tau_q, _ = bridge_inputs(out, 0, x.shape[0], body_info, self._bodies)
        if measures is not None and self.screen is not None:
            faults = self.screen.screen(exercise, measures, video=video)
        else:
            faults = detect_faults(out, 0, exercise, self.labels)
        times["encoder_physics"] = time.perf_counter() - t0
        if peak_moments is None:
            peak_moments = peak_extensor_moments(tau_q.numpy(), DOF_NAMES, body_info["mass_kg"], exercise)
        capped, _ = grade_cap(analysis.get("grade"), [f.severity for f in faults])  # the grade agrees with the faults
        summary = coach_summary(exercise, {**analysis, "grade": capped}, peak_moments, faults)
        system, user = build_prompt(summary, SYSTEM_PROMPT)
        detected = {f.name: {"severity": f.severity, "side": f.side} for f in faults}
        reference = target_text(summary, detected, 0)
        if max_new_tokens <= 0 or self.llm is None:  # no text asked for (or no LLM loaded): the rule-based one
            return CoachResult(reference, reference, summary, "", faults, None, times)
        prompt = self.llm.chat_prompt(system, user)
        t0 = time.perf_counter()
        soft = self.bridge(phys, states, fps=ENCODER_FPS) if soft_tokens else None
        text = self.llm.generate(prompt, max_new_tokens, inputs_embeds_prefix=soft, temperature=temperature,
                                 repetition_penalty=1.0 if temperature == 0 else None)  # fmt: skip
        times["llm"] = time.perf_counter() - t0
        problems = grounding_problems(text, summary)
        if problems:  # never show an empty or ungrounded text: the rule-based coach says the same facts
            reason = "; ".join(problems)
            return CoachResult(reference, reference, summary, prompt, faults, None, times,
                               fallback=f"the LLM's text was replaced by the rule-based text: {reason}",
                               llm_text=text)  # fmt: skip
        return CoachResult(text, reference, summary, prompt, faults, None, times, llm_text=text)
