"""Question-answering examples: synthetic clips prepared as the coach sees them, with their ground truth.

One :class:`QAClip` per clip of a dataset (HDF5 of ``musclepose simulate``): the event table the
coach measures on the clip's motion as it would on a recording (kinetics with ground reactions
estimated from the motion, the analysis' repetitions, the shipped form screen), the motion
encoder's states pooled over each measured repetition (the PhysicsBridge's input), and the
*truth*, computed from what the generator made: its repetition windows and phases, the clip's
inverse dynamics with the true contacts, its injected faults with their sides. Answers are
checked against the truth (:mod:`musclepose.evaluation.coach_qa`); training pairs are the
rule-based answers whose key the truth accepts. Prepared clips are cached as JSON lines (no
pickle), keyed by the dataset file's size and the clip index.
"""

from __future__ import annotations

import json
import multiprocessing as mp
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..body import forward_kinematics
from ..catalogue import FAULTS
from ..catalogue import exercise as catalogue_exercise
from ..io.clip import CLIP_CHANNELS
from ..io.hdf5 import MotionDatasetReader
from ..language.answers import fatigue_trend
from ..language.questions import SIDE_TOPICS, UNMEASURABLE, phrase_question
from ..motion.kinetics import compute_kinetics
from ..progress import progress_bar
from ..signals import analyze_motion
from ..signals.rep_events import MotionEvents
from .checkpoint import load_checkpoint
from .coach_inputs import ENCODER_FPS, decimation, encoder_inputs, keypoints_from_motion
from .form_screen import FormScreen, fault_measures, grf_in_bw
from .motion_events import FaultSignals, motion_events

__all__ = [
    "MOMENT_TOLERANCE",
    "SIDE_TRUTH_EXERCISES",
    "QAClip",
    "QAItem",
    "clip_truth",
    "load_qa_clips",
    "make_items",
    "moment_ok",
    "pooled_states",
    "prepare_qa_clip",
]

#: Which sided faults' sides the generator sets, per exercise (the others inject both sides alike).
SIDE_TRUTH_EXERCISES = {
    "knee_valgus": ("squat", "deadlift", "lunge", "sit_to_stand", "jumping_jack"),  # a jumping jack's: both
    "asymmetric_drive": ("squat", "deadlift", "sit_to_stand"),
    "elbow_flare": ("overhead_press", "push_up", "bent_over_row"),
}
_BOTH_SIDES = ("elbow_flare", "heel_lift")  # injected on both sides whatever the label says


@dataclass
class QAClip:
    """One prepared clip (module docstring); ``rep_states (n_reps, d)`` per measured repetition."""

    index: int
    split: str
    subject: str
    exercise: str
    events: MotionEvents
    truth: dict[str, Any]
    rep_states: np.ndarray

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "split": self.split, "subject": self.subject, "exercise": self.exercise,
                "events": self.events.to_dict(), "truth": self.truth,
                "rep_states": np.round(self.rep_states, 4).tolist()}  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> QAClip:
        states = np.asarray(d["rep_states"], dtype=np.float32).reshape(len(d["events"]["reps"]), -1)
        return cls(d["index"], d["split"], d["subject"], d["exercise"], MotionEvents.from_dict(d["events"]),
                   d["truth"], states)  # fmt: skip


def pooled_states(states: torch.Tensor, events: MotionEvents, fps: float = ENCODER_FPS) -> np.ndarray:
    """The encoder's ``states (T, d)`` at ``fps`` averaged over each repetition of ``events``: ``(n_reps, d)``."""
    out = []
    t = states.shape[0]
    for r in events.reps:
        a = min(t - 1, max(0, int(round(r.start_s * fps))))
        b = min(t, max(a + 1, int(round(r.end_s * fps)) + 1))
        out.append(states[a:b].mean(0))
    d = states.shape[-1]
    return torch.stack(out).numpy() if out else np.zeros((0, d), dtype=np.float32)


def _phases_frames(rep: dict[str, Any], fps: float) -> list[tuple[str, int, int]]:
    out = []
    for p in rep.get("phases", []):
        a = int(round(p["start_s"] * fps))
        out.append((p["name"], a, max(a, int(round(p["end_s"] * fps)) - 1)))
    return out


def clip_truth(motion: Any, tau: np.ndarray, labels: dict[str, Any], exercise: str) -> dict[str, Any]:
    """The ground truth of one synthetic clip for the questions (module docstring): per true
    repetition its depth (deg, mean of the sides' peak), duration and rising time (s), peak extensor
    moments (N·m/kg, max of the sides, from the clip's inverse dynamics with its true contacts), each
    injected fault's per-repetition value (the events' measure on the true repetitions) and the
    phase it peaks in; the faults with the side the generator put them on."""
    ex = catalogue_exercise(exercise)
    upper = bool(ex is not None and ex.upper_body)
    body, fps = motion.body, float(motion.fps)
    q = np.degrees(motion.q.numpy())
    depth_dof = "elbow_flexion" if upper else "knee_flexion"
    joints = ("elbow", "shoulder") if upper else ("knee", "hip")
    stems = {"elbow": "elbow_flexion", "shoulder": "shoulder_flexion", "knee": "knee_flexion", "hip": "hip_flexion"}
    mass = body.mass_kg
    reps = labels.get("reps") or []
    with torch.no_grad():
        fk = forward_kinematics(body, motion.q.detach().to(torch.float64))
    sig = FaultSignals(motion, exercise, fk)
    truth: dict[str, Any] = {"n_reps": len(reps), "limb": "arm" if upper else "leg", "depth": [], "duration": [],
                             "rising": [], "moment": {j: [] for j in joints}, "fault_values": {}, "fault_phase": {},
                             "faults": {}}  # fmt: skip
    faults = labels.get("faults") or {}
    for r in reps:
        a, b = int(round(r["start_s"] * fps)), min(len(q) - 1, int(round(r["end_s"] * fps)))
        truth["depth"].append(float(np.mean([q[a : b + 1, body.dof_index(f"{depth_dof}_{s}")].max() for s in "rl"])))
        truth["duration"].append(float(r["end_s"] - r["start_s"]))
        con = [p["end_s"] - p["start_s"] for p in r.get("phases", []) if p["name"] == "concentric"]
        truth["rising"].append(float(con[0]) if con else None)
        for j in joints:
            sign = -1.0
            vals = [sign * tau[a : b + 1, body.dof_index(f"{stems[j]}_{s}")] / mass for s in "rl"]
            if j == "shoulder":
                vals = [np.abs(v) for v in vals]
            truth["moment"][j].append(float(max(v.max() for v in vals)))
        if faults:
            rep = {**r, "phases": [{"name": p["name"], "start_s": p["start_s"], "end_s": p["end_s"]}
                                   for p in r.get("phases", [])]}  # fmt: skip
            _, events = sig.rep_events(rep, a, b, _phases_frames(r, fps))
            for name in faults:
                e = events.get(name)
                if e is None:
                    continue
                v = (
                    max((x for x in (e.by_side or {}).values() if x is not None), default=None)
                    if e.by_side
                    else e.value
                )
                truth["fault_values"].setdefault(name, []).append(None if v is None else float(v))
                truth["fault_phase"].setdefault(name, []).append(e.phase)
    for name, f in faults.items():
        side = f.get("side")
        if name in _BOTH_SIDES or (name == "knee_valgus" and exercise == "jumping_jack"):
            side = "both"
        elif name not in SIDE_TRUTH_EXERCISES or exercise not in SIDE_TRUTH_EXERCISES[name]:
            side = None
        truth["faults"][name] = {"severity": float(f["severity"]), "side": side,
                                 "label": FAULTS[name].label if name in FAULTS else name}  # fmt: skip
    truth["mean_depth"] = float(np.mean(truth["depth"])) if truth["depth"] else None
    params = (labels.get("params") or {}).get("params") or {}
    truth["load_kg"] = float(params.get("load_kg") or 0.0)  # a load a recording of motion does not show
    truth["fatigue"] = float(params.get("fatigue") or 0.0)
    return truth


_WORKER: dict[str, Any] = {}


def _init_worker(checkpoint: str) -> None:
    torch.set_num_threads(1)
    parts, _ = load_checkpoint(checkpoint)
    _WORKER.update(
        encoder=parts["encoder"].float().eval(), screen=FormScreen.load(Path(checkpoint) / "form_screen.json")
    )


def prepare_qa_clip(path: str, i: int, encoder: Any, screen: FormScreen) -> QAClip:
    """One :class:`QAClip` from clip ``i`` of the dataset ``path`` (module docstring)."""
    if _WORKER.get("path") != path:
        _WORKER.update(path=path, reader=MotionDatasetReader(path))
    reader = _WORKER["reader"]
    f = reader._h5()
    labels = json.loads(f["extra_attrs"][i])
    motion = reader[i]
    extra = f["extra"]
    o = extra["tau"]["offsets"]
    tau = np.asarray(extra["tau"]["data"][o[i] : o[i + 1]], dtype=np.float64)
    exercise = labels["exercise"]
    kin = compute_kinetics(motion)  # estimated ground reactions, as for a recording
    analysis = analyze_motion(motion, exercise=exercise, kinetics=kin)
    rel = analysis.reliability
    measures = {}
    if analysis.screenable:
        measures = fault_measures(motion, exercise, analysis.to_dict(), step=decimation(motion.fps),
                                  trusted=None if rel is None else rel.trusted, grf_bw=grf_in_bw(kin))  # fmt: skip
    faults = screen.screen(exercise, measures) if measures else []
    events = motion_events(motion, analysis, exercise, faults, kin, screen)
    step = decimation(motion.fps)
    channels = np.stack([analysis.channels[c] for c in CLIP_CHANNELS], 1)
    x = encoder_inputs(channels[::step], keypoints_from_motion(motion)[::step])
    with torch.no_grad():
        states = encoder(x[None], ENCODER_FPS).states[0]
    truth = clip_truth(motion, tau, labels, exercise)
    return QAClip(i, labels.get("split", "train"), labels.get("subject", ""), exercise, events, truth,
                  pooled_states(states, events))  # fmt: skip


def _prepare(job: tuple[str, int]) -> str:
    path, i = job
    return json.dumps(prepare_qa_clip(path, i, _WORKER["encoder"], _WORKER["screen"]).to_json())


def load_qa_clips(
    path: str | Path, checkpoint: str | Path, splits: tuple[str, ...] | None = None, *, cache: str | Path | None = None,
    workers: int = 1, limit: int | None = None, progress: bool = True,
) -> list[QAClip]:  # fmt: skip
    """The clips of the dataset ``path`` in ``splits`` (None: all) as :class:`QAClip`, measured with the
    coach checkpoint ``checkpoint``'s encoder and form screen, on ``workers`` processes; ``cache``: a
    JSON-lines file that keeps prepared clips between runs (clips already in it are not prepared again)."""
    import h5py  # heavy, optional at import time (as in musclepose.io.hdf5)

    path = Path(path)
    with h5py.File(path, "r") as f:
        split_of = [json.loads(a).get("split", "train") for a in f["extra_attrs"][:]]
    wanted = [i for i, s in enumerate(split_of) if splits is None or s in splits][: limit or None]
    stamp = f"{path.name}:{path.stat().st_size}"
    done: dict[int, QAClip] = {}
    if cache is not None and Path(cache).is_file():
        for line in Path(cache).read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            if d.get("stamp") == stamp:
                done[d["clip"]["index"]] = QAClip.from_json(d["clip"])
    todo = [i for i in wanted if i not in done]
    with progress_bar("preparing question clips", total=len(todo), enabled=progress) as advance:
        sink = open(cache, "a", encoding="utf-8") if cache is not None else None  # noqa: SIM115 - appended per clip
        try:
            if workers <= 1:
                _init_worker(str(checkpoint))
                results = (_prepare((str(path), i)) for i in todo)
                for blob in results:
                    _keep(blob, done, sink, stamp)
                    advance()
            else:
                ctx = mp.get_context("spawn")
                with ctx.Pool(workers, initializer=_init_worker, initargs=(str(checkpoint),)) as pool:
                    for blob in pool.imap_unordered(_prepare, [(str(path), i) for i in todo], chunksize=2):
                        _keep(blob, done, sink, stamp)
                        advance()
        finally:
            if sink is not None:
                sink.close()
    return [done[i] for i in wanted]


def _keep(blob: str, done: dict[int, QAClip], sink: Any, stamp: str) -> None:
    d = json.loads(blob)
    done[d["index"]] = QAClip.from_json(d)
    if sink is not None:
        sink.write(json.dumps({"stamp": stamp, "clip": d}) + "\n")
        sink.flush()


@dataclass(frozen=True)
class QAItem:
    """One question about one clip with the answers the truth accepts: ``accept`` the keys
    (:func:`musclepose.language.answers.answer_key`'s form), or for ``rep_moment`` the true ``value``
    (N·m/kg) within :data:`MOMENT_TOLERANCE`; ``previous``: the other clip of a comparison;
    ``variant``: how the clip is given (``"motion"``; ``"channels"`` or ``"no_arms"`` for the
    questions only a full recording answers)."""

    clip: int
    kind: str
    question: str
    accept: tuple[str, ...]
    value: float | None = None
    previous: int | None = None
    variant: str = "motion"
    rep: int | None = None


#: A moment answer is right within 0.1 N·m/kg or 15 % of the true value, whichever is larger: the
#: agreement of joint moments from estimated ground reactions with force-plate inverse dynamics
#: (RMSE 0.06-0.08 N·m/kg at hip and knee on OpenSim's gait, docs/validation_kinetics.md).
MOMENT_TOLERANCE = (0.1, 0.15)


def moment_ok(value: float, truth: float) -> bool:
    """Whether a stated peak moment is within :data:`MOMENT_TOLERANCE` of the truth."""
    return abs(value - truth) <= max(MOMENT_TOLERANCE[0], MOMENT_TOLERANCE[1] * abs(truth))


def _ties(values: list[float | None], tol_abs: float, tol_rel: float = 0.0) -> tuple[str, ...]:
    ok = [(k, v) for k, v in enumerate(values) if v is not None]
    if not ok:
        return ()
    top = max(v for _, v in ok)
    tol = max(tol_abs, tol_rel * abs(top))
    return tuple(str(k + 1) for k, v in ok if v >= top - tol)


def make_items(
    clip: QAClip, rng: np.random.Generator, phrasing: str = "train", others: list[QAClip] | None = None,
    kinds: tuple[str, ...] | None = None,
) -> list[QAItem]:  # fmt: skip
    """The questions of every kind that ``clip``'s truth can decide, phrased from ``phrasing``'s
    templates (:func:`musclepose.language.questions.template_split`); ``others``: clips to compare
    with (one of the same exercise is drawn)."""
    tr, ex = clip.truth, clip.exercise
    n = int(tr["n_reps"])
    items: list[QAItem] = []
    want = set(kinds) if kinds else None

    def add(kind: str, accept: tuple[str, ...], value: float | None = None, previous: int | None = None,
            rep: int | None = None, **slots: Any) -> None:  # fmt: skip
        if (want is None or kind in want) and (accept or value is not None):
            q = phrase_question(kind, rng, phrasing, rep=rep, **slots)
            items.append(QAItem(clip.index, kind, q, accept, value, previous, rep=rep))

    faults = sorted(tr["faults"].items(), key=lambda kv: -kv[1]["severity"])
    # A cyclic exercise (jumping jacks) repeats identical cycles with no lowering or rising: which cycle
    # was deepest or slowest, when a fault appears and whether the rise slows have no answer there.
    cyclic = bool(catalogue_exercise(ex) and catalogue_exercise(ex).cyclic)
    if n >= 2 and not cyclic:
        add("deepest", _ties(tr["depth"], 1.0))
        add("slowest", _ties(tr["duration"], 0.05))
    if n >= 2:
        if not faults:
            add("worst", ("none",))
        elif faults[0][0] in tr["fault_values"]:
            add("worst", _ties(tr["fault_values"][faults[0][0]], 0.1, 0.05))
    sided = [(f, info) for f, info in faults if ex in SIDE_TRUTH_EXERCISES.get(f, ()) and info["side"]]
    if sided:
        f, info = sided[0]
        add("side", ({"r": "right", "l": "left"}.get(info["side"], "both"),), topic=SIDE_TOPICS[f])
    else:
        free = [f for f, exs in SIDE_TRUTH_EXERCISES.items() if ex in exs and f not in tr["faults"]]
        if free:
            add("side", ("neither",), topic=SIDE_TOPICS[free[int(rng.integers(len(free)))]])
    if faults and not cyclic:
        f = faults[0][0]
        phases = [p for p in tr["fault_phase"].get(f, []) if p in ("lowering", "bottom", "rising", "top")]
        if phases:
            top = max(phases.count(p) for p in phases)  # a tie in the truth: each tied phase is right
            add(
                "fault_phase",
                tuple(dict.fromkeys(p for p in phases if phases.count(p) == top)),
                fault=tr["faults"][f]["label"],
            )
    elif not cyclic:
        ex_faults = [f for f in (catalogue_exercise(ex).faults if catalogue_exercise(ex) else {}) if f in FAULTS]
        if ex_faults:
            add("fault_phase", ("none",), fault=FAULTS[ex_faults[int(rng.integers(len(ex_faults)))]].label)
    trend = fatigue_trend([x for x in tr["rising"] if x is not None]) if n >= 3 and not cyclic else None
    if trend is not None:
        add("fatigue", ("yes",) if trend >= 0.13 else ("no",) if trend <= 0.07 else ("yes", "no"))
    if tr["limb"] == "leg" and tr["load_kg"] == 0 and n >= 1:
        k = int(rng.integers(n)) + 1
        add("rep_moment", (), value=tr["moment"]["knee"][k - 1], rep=k, joint="knee")
    same = [o for o in others or [] if o.exercise == ex and o.index != clip.index and o.truth["mean_depth"]]
    if same and tr["mean_depth"] is not None:
        o = same[int(rng.integers(len(same)))]
        d = tr["mean_depth"] - o.truth["mean_depth"]
        accept = ("deeper",) if d > 3 else ("shallower",) if d < -3 else ("same",) if abs(d) < 1 else (
            "same", "deeper" if d > 0 else "shallower")  # fmt: skip
        add("compare", accept, previous=o.index)
    topics = sorted(UNMEASURABLE)
    add("decline", ("declined",), unmeasurable=topics[int(rng.integers(len(topics)))])
    if n >= 1 and tr["limb"] == "leg":  # a repetition the set does not have
        k = n + 1 + int(rng.integers(3))
        if want is None or "decline" in want:
            q = phrase_question("rep_moment", rng, phrasing, rep=k, joint="knee")
            items.append(QAItem(clip.index, "decline", q, ("declined",), rep=k))
    return items
