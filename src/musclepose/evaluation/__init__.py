"""Metrics and validation harnesses against independent references (real recordings, peers)."""

from .kinetics import agreement, validate_opensim_gait, validate_vicon_gait

__all__ = ["agreement", "validate_opensim_gait", "validate_vicon_gait"]
