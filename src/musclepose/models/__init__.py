"""Neural networks (no I/O, no training loops): one file per network, each with a config dataclass."""

from .grf import GRFConfig, GRFInputs, GRFModel, GRFOutput, fit_grf_coefficients, grf_inputs

__all__ = ["GRFConfig", "GRFInputs", "GRFModel", "GRFOutput", "fit_grf_coefficients", "grf_inputs"]
