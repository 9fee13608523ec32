"""Every form fault's coaching knowledge (its name in words, why it matters, cues) and the
severity bands a coach's words follow.

The consequences and cues summarise standard strength-and-conditioning and clinical
biomechanics teaching: Hewett et al. 2005 (Am J Sports Med 33:492, knee valgus and ACL
load), Schoenfeld 2010 (J Strength Cond Res 24:3497, squat depth, trunk lean, heel lift),
McGill 2007 (*Low Back Disorders*, lumbar flexion under load, bracing), Escamilla 2001
(Med Sci Sports Exerc 33:127, knee and hip moments in squats), Lehman 2004 / Cools 2007
(shoulder impingement in pressing with flared elbows), Contreras et al. 2012 (push-up
alignment), Kraemer & Ratamess 2004 (tempo and eccentric control).
"""

from __future__ import annotations

from types import MappingProxyType

from .types import FaultInfo

__all__ = ["FAULTS", "GRADE_CAPS", "SEVERITY_BANDS", "grade_cap", "strength_word"]

FAULTS: MappingProxyType[str, FaultInfo] = MappingProxyType(
    {
        "knee_valgus": FaultInfo(
            "knees caving inward",
            "it loads the knee in the frontal plane, where the ligaments and the kneecap take stress "
            "the muscles should",
            (
                "push your knees out over your toes",
                "spread the floor apart with your feet",
                "track the knees over the second toe",
            ),
            sided=True,
        ),
        "shallow_depth": FaultInfo(
            "shallow depth",
            "the hips and thighs work through less range, so the glutes and quadriceps get less of the training effect",
            (
                "sit down until your hip crease passes your knees",
                "own the bottom position before you stand",
                "go lower, under control",
            ),
        ),
        "forward_lean": FaultInfo(
            "too much forward lean",
            "the load moves away from the hips, which raises the moment the lower back has to hold",
            ("keep your chest up", "stay tall through the torso", "brace and lead with the chest"),
        ),
        "heel_lift": FaultInfo(
            "heels lifting",
            "the weight shifts onto the forefoot, the base of support shrinks and the knees take more shear",
            ("keep your weight through the whole foot", "screw your heels into the floor", "stay heavy on the heels"),
            sided=True,
        ),
        "asymmetric_drive": FaultInfo(
            "uneven drive between the legs",
            "one side does more of the work, which builds an imbalance over time",
            (
                "drive evenly through both feet",
                "feel both legs push at the same time",
                "keep the hips level as you rise",
            ),
            sided=True,
        ),
        "bar_path_drift": FaultInfo(
            "the bar drifting forward",
            "every centimetre away from mid-foot lengthens the lever arm at the hips and lower back",
            (
                "keep the bar over mid-foot",
                "keep the load close to your body",
                "move the bar in a straight vertical line",
            ),
        ),
        "lumbar_flexion": FaultInfo(
            "the lower back rounding",
            "a flexed spine under load concentrates stress on the discs instead of the muscles around them",
            ("brace your core and keep a neutral spine", "keep your back flat", "hinge at the hips, not the spine"),
        ),
        "elbow_flare": FaultInfo(
            "elbows flaring out",
            "it puts the shoulder in a position that narrows the space for the rotator cuff",
            (
                "tuck your elbows in toward your sides",
                "keep the elbows under the wrists",
                "screw the hands into the floor",
            ),
            sided=True,
        ),
        "hip_sag": FaultInfo(
            "the hips sagging",
            "the lower back hyperextends and the core stops carrying the load",
            (
                "squeeze your glutes and keep a straight line from head to heels",
                "brace like a plank",
                "lift the hips to body line",
            ),
        ),
        "rushed_eccentric": FaultInfo(
            "rushing the lowering phase",
            "a fast descent reduces control and time under tension and raises the forces at the bottom",
            (
                "lower under control",
                "take your time on the way down",
                "slow the descent and pause briefly at the bottom",
            ),
        ),
        "incomplete_lockout": FaultInfo(
            "not finishing the repetition",
            "the last part of the range, where the muscles are shortest, goes untrained",
            ("finish each repetition fully extended", "lock out at the top", "stand all the way up"),
        ),
        "hip_pike": FaultInfo(
            "the hips piking up",
            "the shoulders take more of the body weight and the core and chest work through less range",
            (
                "lower the hips into one straight line",
                "keep head, hips and heels aligned",
                "brace the abs to flatten the body",
            ),
        ),
        "lumbar_hyperextension": FaultInfo(
            "the lower back arching",
            "an arched spine under load compresses the back of the vertebrae",
            (
                "ribs down, brace the core",
                "squeeze the glutes to keep the pelvis neutral",
                "keep the ribcage stacked over the pelvis",
            ),
        ),
        "narrow_stance": FaultInfo(
            "a narrow stance",
            "a small base of support makes balance harder and limits how deep the hips can go",
            ("set your feet about shoulder width apart", "widen your stance a little", "turn the toes slightly out"),
        ),
        "knee_over_toe": FaultInfo(
            "the front knee travelling far past the toes",
            "it raises the load on the front of the knee",
            ("sit back into the lunge", "keep the front shin more vertical", "step a little longer"),
            sided=True,
        ),
        "arms_not_overhead": FaultInfo(
            "arms not reaching overhead",
            "the shoulders work through less range",
            ("reach all the way overhead", "clap the hands above your head", "finish the arm swing at the top"),
        ),
        "torso_swing": FaultInfo(
            "the torso swinging",
            "energy leaks sideways instead of going into the movement",
            ("keep the torso still", "brace before each repetition", "stay stacked over the hips"),
        ),
        # Single-limb and rehabilitation movements (catalogue.limb_exercises).
        "upper_arm_swing": FaultInfo(
            "the upper arm swinging",
            "the shoulder and momentum lift the weight, so the biceps work through less of the load",
            ("pin your elbows to your sides", "move only at the elbow", "use a weight you can curl without swinging"),
            sided=True,
        ),
        "partial_range": FaultInfo(
            "stopping short of the full range",
            "the end of the range, where the muscle is shortest or the joint most mobile, goes untrained",
            ("move through the full range", "finish each repetition at the end position", "lighten the load if needed"),
            sided=True,
        ),
        "elbow_bend": FaultInfo(
            "the arms bending",
            "the arms take over part of the lift the shoulders should do",
            ("keep your arms straight", "let the arms hang like ropes", "move only the shoulders"),
            sided=True,
        ),
        "form_deviation": FaultInfo(
            "the movement differing from correct form",
            "an altered pattern shifts the work to other muscles and joints than the exercise intends",
            (
                "slow down and follow the prescribed movement",
                "keep the rest of the body still",
                "ask a coach to check it",
            ),
        ),
    }
)

# A severity in [0, 1] is worded by the first band it reaches (a coach's "slight" fault is
# one a trained eye sees; "pronounced" one anyone sees).
SEVERITY_BANDS: tuple[tuple[float, str], ...] = ((0.6, "pronounced"), (0.3, "moderate"), (0.0, "slight"))


def strength_word(severity: float) -> str:
    """How a coach words a severity in [0, 1]: ``pronounced`` (>= 0.6), ``moderate`` (>= 0.3), ``slight``."""
    for floor, word in SEVERITY_BANDS:
        if severity >= floor:
            return word
    return SEVERITY_BANDS[-1][1]


#: The best grade a repetition set can earn with a fault of each strength: a movement graded A
#: while the screen finds a pronounced fault in it contradicts itself.
GRADE_CAPS: MappingProxyType[str, str] = MappingProxyType({"pronounced": "C", "moderate": "B", "slight": "A"})


def grade_cap(grade: str | None, severities: list[float] | tuple[float, ...]) -> tuple[str | None, str | None]:
    """``grade`` lowered to what the most severe fault allows (:data:`GRADE_CAPS`), and why (None: unchanged)."""
    if grade is None or not severities:
        return grade, None
    word = strength_word(max(severities))
    cap = GRADE_CAPS[word]
    if grade in ("A", "B", "C", "D", "F") and grade < cap:  # letters: "A" < "B" < ... is better < worse
        return cap, f"at most {cap} with a {word} fault"
    return grade, None
