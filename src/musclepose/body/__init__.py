"""The human body model: pure, batched, differentiable tensor functions over a static Body.

Conventions (see :mod:`.skeleton`): Y-up, right-handed, SI units, gravity (0, -9.81, 0);
q (..., 47) = root translation (3), root rotation ZXY (3), 41 rotational DoF.
"""

from .contact import FootContact, foot_contact
from .dynamics import GRAVITY, ExternalWrench, inverse_dynamics, root_residual, segment_motion
from .grf import GRFEstimate, estimate_grf
from .kinematics import FKResult, forward_kinematics
from .landmarks import COCO17, LANDMARK_SETS, MEDIAPIPE33, PLUG_IN_GAIT
from .model import Body
from .muscles import MTGParameters, activation_dynamics, mtg_parameters, muscle_torque, static_optimization
from .skeleton import DOF_NAMES, N_DOF, N_SEGMENTS, SEGMENTS

__all__ = [
    "COCO17",
    "DOF_NAMES",
    "GRAVITY",
    "LANDMARK_SETS",
    "MEDIAPIPE33",
    "N_DOF",
    "N_SEGMENTS",
    "PLUG_IN_GAIT",
    "SEGMENTS",
    "Body",
    "ExternalWrench",
    "FKResult",
    "FootContact",
    "GRFEstimate",
    "MTGParameters",
    "activation_dynamics",
    "estimate_grf",
    "foot_contact",
    "muscle_torque",
    "mtg_parameters",
    "root_residual",
    "segment_motion",
    "static_optimization",
    "forward_kinematics",
    "inverse_dynamics",
]
