"""Neural networks (no I/O, no training loops): one file per network, each with a config dataclass."""

from .bridge import PHYSICS_DIM, BridgeConfig, PhysicsBridge, physics_features, sinusoidal_encoding
from .encoder import EncoderConfig, EncoderOutput, MotionEncoder
from .grf import GRFConfig, GRFInputs, GRFModel, GRFOutput, fit_grf_coefficients, grf_inputs

__all__ = [
    "PHYSICS_DIM",
    "BridgeConfig",
    "EncoderConfig",
    "EncoderOutput",
    "GRFConfig",
    "GRFInputs",
    "GRFModel",
    "GRFOutput",
    "MotionEncoder",
    "PhysicsBridge",
    "fit_grf_coefficients",
    "grf_inputs",
    "physics_features",
    "sinusoidal_encoding",
]
