import threading

import gymnasium as gym
import numpy as np
import pytest

from tests.conftest import ScriptedEnv
from tfa_custom_nets.training import TrainConfig, override, train_eval


class NanAtStep700(ScriptedEnv):
    """50-step episodes whose 700th step overall (after warm-up, mid-training) returns NaN."""

    def __init__(self):
        super().__init__(terminate_at=50)
        self.total_steps = 0

    def step(self, action):
        observation, reward, terminated, truncated, info = super().step(action)
        self.total_steps += 1
        if self.total_steps == 700:
            observation[0] = np.nan
        return observation, reward, terminated, truncated, info


def test_nan_observation_mid_training_stops_the_run_and_cleans_up(tmp_path):
    gym.register("tfa_test/NanAtStep700-v0", entry_point=NanAtStep700)
    config = override(TrainConfig(), [
        "env.id='tfa_test/NanAtStep700-v0'", "env.threshold=1000.0", "total_env_steps=2000",
        "replay.learning_starts=600", "eval_interval=1000", "eval_episodes=2", "progress=False",
        "network.kwargs={'hidden_units': [8]}", f"run_dir={str(tmp_path / 'run')!r}"])
    with pytest.raises(ValueError, match=r"observation at env step 700 contains NaN"):
        train_eval(config)
    assert not [t for t in threading.enumerate() if t.name.startswith("learner")]
    assert not (tmp_path / "run" / "summary.json").exists()
