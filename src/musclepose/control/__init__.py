"""Forward dynamics of the body: a MuJoCo simulation built from ``Body.to_mjcf()``, tracking
controllers (stable PD), gymnasium environments for imitation and the use of learned policies.

Conventions are the body's (Y-up, SI units, ``q`` laid out as ``body.dof_names``); MuJoCo's
``qpos`` maps 1:1 onto ``q``.
"""

from __future__ import annotations

try:  # gymnasium is the optional "control" extra; the simulation and SPD do not need it
    import gymnasium as _gym
except ImportError:  # pragma: no cover - depends on the installation
    _gym = None

if _gym is not None and "musclepose/Imitate-v0" not in _gym.registry:
    _gym.register(id="musclepose/Imitate-v0", entry_point="musclepose.control.env:ImitateEnv")
