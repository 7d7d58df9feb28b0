"""Shared test fixtures: small gymnasium envs whose every step is known."""

import importlib.util
import os

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # tests are CPU-only, also on a GPU machine

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import tfa_custom_nets  # noqa: E402,F401  (quiet imports before TensorFlow)

HAS_REVERB = importlib.util.find_spec("reverb") is not None
NO_REVERB = ("needs dm-reverb, which is not installed: it exists only for the current stack (Python 3.9-3.11, "
             "TensorFlow 2.15); make test PYTHON=python3.11")


def pytest_collection_modifyitems(config, items):
    """Tests marked `reverb` (Reverb tables, prioritized replay, the distributed roles) are skipped,
    with the reason, where dm-reverb is not installed (the modern stack). The notebooks (run by nbmake)
    are whole training runs: `slow`, like the tests marked so."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
        if not HAS_REVERB and item.get_closest_marker("reverb") is not None:
            item.add_marker(pytest.mark.skip(reason=NO_REVERB))


class ScriptedEnv(gym.Env):
    """Observation = [step index, seed-dependent noise]; reward = step index + 1.

    Terminates after `terminate_at` steps (None: never); `nan_at` makes that step's
    observation NaN, `bad_reward_at` that step's reward inf.
    """

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(self, terminate_at=None, nan_at=None, bad_reward_at=None, render_mode=None):
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.terminate_at, self.nan_at, self.bad_reward_at = terminate_at, nan_at, bad_reward_at
        self.render_mode = render_mode
        self.t = 0
        self.actions = []
        self.closed = False

    def _obs(self):
        obs = np.array([self.t, self.np_random.uniform()], np.float32)
        if self.nan_at is not None and self.t == self.nan_at:
            obs[0] = np.nan
        return obs

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {"t": 0}

    def step(self, action):
        self.actions.append(action)
        self.t += 1
        reward = float(self.t)
        if self.bad_reward_at is not None and self.t == self.bad_reward_at:
            reward = float("inf")
        terminated = self.terminate_at is not None and self.t >= self.terminate_at
        return self._obs(), reward, terminated, False, {"t": self.t}

    def render(self):
        return np.full((4, 4, 3), self.t, np.uint8)

    def close(self):
        self.closed = True


class DictObsEnv(gym.Env):
    """Dict observation (an 'image' and a 'vector'), Discrete(3) actions, 10-step episodes."""

    def __init__(self):
        self.observation_space = gym.spaces.Dict({
            "image": gym.spaces.Box(0, 255, (6, 6, 1), np.uint8),
            "vector": gym.spaces.Box(-1.0, 1.0, (3,), np.float32),
        })
        self.action_space = gym.spaces.Discrete(3)
        self.t = 0

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action):
        self.t += 1
        return self.observation_space.sample(), float(action), self.t >= 10, False, {}


@pytest.fixture
def scripted_env():
    return ScriptedEnv
