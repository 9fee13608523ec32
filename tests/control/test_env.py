"""musclepose/Imitate-v0: the gymnasium API, DeepMimic's reward at the reference, early termination."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import musclepose.control  # noqa: F401  (registers the environment)
from musclepose.control.env import ENV_ID, REWARD_WEIGHTS, ImitateEnv, standing_motion


@pytest.fixture(scope="module")
def squat_path(refdata):
    return refdata("mocap/addbiomechanics_expert1/squats1.mot")


def test_env_passes_gymnasium_check(squat_path):
    env = gym.make(ENV_ID, motion=str(squat_path))
    check_env(env.unwrapped, skip_render_check=True)
    assert env.action_space.shape == (41,) and env.observation_space.shape == (94,)


def test_reward_is_one_in_the_reference_state(body):
    # At reset (reference-state initialisation) every DeepMimic term is exp(0) = 1 and the weights sum to 1.
    env = ImitateEnv(standing_motion(body, seconds=1.0))
    env.reset(seed=0, options={"start_s": 0.0})
    reward, terms = env._reward()
    assert sum(REWARD_WEIGHTS.values()) == pytest.approx(1.0)
    assert reward == pytest.approx(1.0, abs=1e-9) and set(terms) == set(REWARD_WEIGHTS)


def test_standing_reference_is_held_and_episode_truncates(body):
    env = ImitateEnv(standing_motion(body, seconds=1.0))
    env.reset(seed=0, options={"start_s": 0.0})
    rewards, done = [], False
    while not done:
        _, r, terminated, truncated, _ = env.step(np.zeros(41, np.float32))
        rewards.append(r)
        assert not terminated
        done = truncated
    # SPD at the reference keeps the stance: reward stays high (a fall would drive it towards 0)
    assert min(rewards) > 0.5 and 25 <= len(rewards) <= 30


def test_wild_actions_end_the_episode_with_a_fall(body):
    env = ImitateEnv(standing_motion(body, seconds=4.0))
    env.reset(seed=0, options={"start_s": 0.0})
    action = np.ones(41, np.float32)  # every joint 0.5 rad off its target: the body collapses
    for _ in range(100):
        _, r, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    assert terminated and info["fell"] and np.isfinite(r)
