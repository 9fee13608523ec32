"""Reading questions: every phrasing of every kind is read as its kind with its slots."""

from __future__ import annotations

import numpy as np
import pytest

from musclepose.catalogue import FAULTS
from musclepose.language.questions import (
    QUESTION_KINDS,
    SIDE_TOPICS,
    TEMPLATES,
    UNMEASURABLE,
    parse_question,
    phrase_question,
    template_split,
)

SLOTS = {"rep": 3, "joint": "knee", "topic": SIDE_TOPICS["knee_valgus"], "fault": FAULTS["heel_lift"].label,
         "unmeasurable": "heart rate"}  # fmt: skip


@pytest.mark.parametrize("kind", [k for k in QUESTION_KINDS if k in TEMPLATES])
def test_every_template_is_read_as_its_kind(kind):
    for template in TEMPLATES[kind]:
        q = parse_question(template.format(**SLOTS))
        assert q.kind == kind, template
        if kind == "rep_moment":
            assert q.rep == 3 and q.joint == "knee", template
        if kind == "fault_phase":
            assert q.fault == "heel_lift", template


def test_side_topics_name_their_fault():
    for fault, topic in SIDE_TOPICS.items():
        q = parse_question(f"Did {topic} more on the left or the right?")
        assert (q.kind, q.fault) == ("side", fault)


def test_fault_labels_are_recognised():
    # The labels the answers and the phase questions use are read back as the same fault.
    for name in ("knee_valgus", "heel_lift", "forward_lean", "lumbar_flexion", "elbow_flare", "bar_path_drift",
                 "rushed_eccentric", "hip_sag", "hip_pike", "lumbar_hyperextension"):  # fmt: skip
        q = parse_question(f"When in the repetition does {FAULTS[name].label} appear?")
        assert (q.kind, q.fault) == ("fault_phase", name), FAULTS[name].label


def test_unmeasurable_topics_decline_and_the_rest_is_unknown():
    for topic in UNMEASURABLE:
        q = parse_question(phrase_question("decline", np.random.default_rng(0), unmeasurable=topic))
        assert (q.kind, q.topic) == ("decline", topic)
    assert parse_question("Tell me a joke about squats.").kind == "unknown"
    assert parse_question("What's the weather like?").kind == "unknown"


def test_repetition_numbers_in_words():
    assert parse_question("What was the peak knee moment on the third rep?").rep == 3
    assert parse_question("Peak knee torque in the 4th repetition?").rep == 4
    assert parse_question("What was the knee moment on the last rep?").rep == -1


def test_held_out_phrasings_are_not_training_phrasings():
    for kind in TEMPLATES:
        train, held = set(template_split(kind, "train")), set(template_split(kind, "held_out"))
        assert train and held and not train & held and train | held == set(TEMPLATES[kind])


def test_free_phrasings_outside_the_templates():
    # Within-set speed comparisons are the fatigue question, not a comparison with another file.
    assert parse_question("How fast was I coming up at the end compared to the start?").kind == "fatigue"
    assert parse_question("Was I standing up slower by the end?").kind == "fatigue"
    assert parse_question("How does this compare with my previous set?").kind == "compare"
    assert parse_question("Which rep did I sink furthest on?").kind == "deepest"
    assert parse_question("Which knee caved more?").kind == "side"
    q = parse_question("What was the hip moment in the final rep?")
    assert (q.kind, q.rep, q.joint) == ("rep_moment", -1, "hip")
