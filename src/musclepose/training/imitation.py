"""PPO imitation of a reference motion in ``musclepose/Imitate-v0`` with stable-baselines3.

PPO is stable-baselines3's (Raffin et al. 2021, JMLR 22:268), not written here. Hyperparameters
follow DeepMimic where they carry over (Peng et al. 2018: discount 0.95, GAE lambda 0.95, a
Gaussian policy with a fixed-size MLP); the network is smaller (256, 256 instead of 1024, 512)
so a 2-core machine can train it. Environments run in subprocesses, one per core
(``n_envs``). The result is a folder: ``config.json`` (the environment, PPO settings, measured
samples/s) and ``policy.safetensors`` (the policy's weights; no pickle).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from safetensors.torch import save_file

from ..atomic import atomic_dir

__all__ = ["ImitationTrainConfig", "train_imitation"]


@dataclass
class ImitationTrainConfig:
    """What :func:`train_imitation` does; all of it is written to ``config.json``."""

    motion: str  # a file load_motion reads
    out: str
    total_timesteps: int = 100_000
    n_envs: int = 2
    seed: int = 0
    residual: bool = False
    learning_rate: float = 3e-4
    n_steps: int = 1024  # per environment, per update
    batch_size: int = 256
    gamma: float = 0.95  # DeepMimic
    gae_lambda: float = 0.95  # DeepMimic
    net_arch: list[int] = field(default_factory=lambda: [256, 256])
    overwrite: bool = False  # replace a folder holding files MusclePose did not write
    torch_threads: int = 1


def _make_env(motion: str, residual: bool, seed: int) -> Callable[[], Any]:
    def thunk():
        import gymnasium as gym
        from stable_baselines3.common.monitor import Monitor

        import musclepose.control  # noqa: F401  (registers the environment)

        env = Monitor(gym.make("musclepose/Imitate-v0", motion=motion, residual=residual))  # episode returns
        env.reset(seed=seed)
        return env

    return thunk


def train_imitation(cfg: ImitationTrainConfig, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Train PPO on ``cfg.motion``; save the policy folder ``cfg.out``; return the measured numbers."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    if cfg.total_timesteps < 1 or cfg.n_envs < 1:
        raise ValueError(f"need total_timesteps >= 1 and n_envs >= 1; got {cfg.total_timesteps}, {cfg.n_envs}")
    torch.set_num_threads(cfg.torch_threads)
    thunks = [_make_env(cfg.motion, cfg.residual, cfg.seed + i) for i in range(cfg.n_envs)]
    venv = SubprocVecEnv(thunks) if cfg.n_envs > 1 else DummyVecEnv(thunks)

    class _Progress(BaseCallback):
        def _on_step(self) -> bool:
            if progress is not None:
                progress(self.num_timesteps, cfg.total_timesteps)
            return True

    model = PPO(
        "MlpPolicy",
        venv,
        learning_rate=cfg.learning_rate,
        n_steps=cfg.n_steps,
        batch_size=cfg.batch_size,
        gamma=cfg.gamma,
        gae_lambda=cfg.gae_lambda,
        policy_kwargs={"net_arch": list(cfg.net_arch)},
        seed=cfg.seed,
        device="cpu",
        verbose=0,
    )
    start = time.perf_counter()
    model.learn(total_timesteps=cfg.total_timesteps, callback=_Progress())
    wall = time.perf_counter() - start
    rewards = [ep["r"] for ep in model.ep_info_buffer] if model.ep_info_buffer else []
    lengths = [ep["l"] for ep in model.ep_info_buffer] if model.ep_info_buffer else []
    venv.close()
    stats = {
        "timesteps": int(model.num_timesteps),
        "wall_s": round(wall, 2),
        "samples_per_s": round(model.num_timesteps / wall, 1) if wall > 0 else 0.0,
        "mean_episode_return": round(sum(rewards) / len(rewards), 3) if rewards else None,
        "mean_episode_length": round(sum(lengths) / len(lengths), 1) if lengths else None,
    }
    out = Path(cfg.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_dir(out, overwrite=cfg.overwrite) as tmp:
        state = {k: v.detach().contiguous().cpu() for k, v in model.policy.state_dict().items()}
        save_file(state, tmp / "policy.safetensors")
        meta = {"format": "musclepose-imitation-policy", "version": 1, "train": asdict(cfg), "measured": stats}
        (tmp / "config.json").write_text(json.dumps(meta, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return stats
