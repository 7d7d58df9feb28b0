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


@pytest.mark.parametrize("env_id, kind, joint, message", [
    ("tfa_custom_nets/RobotArm-v0", "dqn", False, r"MultiDiscrete action of shape \[3\].*kind='bdq'.*joint_actions"),
    ("CartPole-v1", "bdq", False, r"'bdq' needs a MultiDiscrete \(D,\) action.*use 'dqn' or 'ddqn'"),
    ("tfa_custom_nets/RobotArm-v0", "bdq", True, r"joint_actions=True made it one index"),
    ("Pendulum-v1", "ddqn", False, r"continuous \(Box\) action.*DiscretizeActions"),
])
def test_agent_kind_and_action_space_mismatches_stop_before_training(env_id, kind, joint, message, tmp_path):
    from tf_agents.specs import tensor_spec

    from tfa_custom_nets.training import EnvConfig, branch_spec, make_env, make_q_network

    config = override(TrainConfig(env=EnvConfig(id=env_id, joint_actions=joint)), [f"agent.kind={kind!r}"])
    env = make_env(config.env)
    action_spec = tensor_spec.from_spec(env.action_spec())
    obs_spec = tensor_spec.from_spec(env.observation_spec())
    with pytest.raises(ValueError, match=message):
        make_q_network(config, obs_spec, action_spec, branch_spec(env, action_spec))


@pytest.mark.parametrize("backend", ["memory", pytest.param("reverb", marks=pytest.mark.reverb)])
def test_batched_envs_keep_the_update_ratio_exact_and_each_envs_episodes_apart(backend, tmp_path):
    """3 envs stepped as a batch, one update per 2 env steps (each iteration collects 3 steps, so
    1 or 2 updates are due): every training episode returns 1 + 2 + ... + 10 = 55 whatever the
    actions, and every env's steps reach the replay and the checkpointed RNG states."""
    import csv
    import json

    import tensorflow as tf

    if "tfa_test/Scripted10-v0" not in gym.registry:
        gym.register("tfa_test/Scripted10-v0", entry_point=ScriptedEnv, kwargs={"terminate_at": 10})
    config = override(TrainConfig(), [
        "env.id='tfa_test/Scripted10-v0'", "env.threshold=1000.0", "num_envs=3", "update_every=2",
        "total_env_steps=1000", "replay.learning_starts=200", "replay.capacity=5000", "replay.batch_size=16",
        "eval_interval=500", "eval_episodes=2", "progress=False", "network.kwargs={'hidden_units': [8]}",
        f"replay.backend={backend!r}", f"run_dir={str(tmp_path / 'run')!r}"])
    summary = train_eval(config)
    steps = summary["env_steps"]
    assert 1000 <= steps < 1003
    assert summary["updates"] == (steps - 200) // 2
    with open(tmp_path / "run" / "metrics.csv") as f:
        assert [float(r["train_return"]) for r in csv.DictReader(f)] == [55.0, 55.0]
    checkpoint = tf.train.latest_checkpoint(str(tmp_path / "run" / "checkpoints"))
    state = json.loads(tf.train.load_variable(checkpoint, "loop_state/.ATTRIBUTES/VARIABLE_VALUE"))
    if backend == "reverb":  # n=1: an episode's k steps make k items once its boundary step is written, k - 1 before
        assert steps - 3 <= state["replay_items"] <= steps
    else:  # the buffer holds every frame: each env's steps, and a LAST -> FIRST boundary per finished episode
        assert state["replay_items"] == steps + 3 * ((steps // 3) // 10)
    assert len(state["rng"]["envs"]) == 3 and len({str(s) for s in state["rng"]["envs"]}) == 3


def test_tf_threads_after_tensorflow_started_warns_and_keeps_the_process_setting(tmp_path):
    import tensorflow as tf

    tf.constant(0)  # TensorFlow has started in this process: its thread pools are fixed
    current = tf.config.threading.get_intra_op_parallelism_threads()
    config = override(TrainConfig(), [
        f"tf_threads={current + 3}", "total_env_steps=300", "replay.learning_starts=200", "eval_interval=300",
        "eval_episodes=1", "progress=False", "replay.backend='memory'", "network.kwargs={'hidden_units': [8]}",
        f"run_dir={str(tmp_path / 'run')!r}"])
    with pytest.warns(RuntimeWarning, match=rf"tf_threads={current + 3} not applied: TensorFlow already started"):
        summary = train_eval(config)
    assert summary["tf_threads"] == current and summary["env_steps"] == 300


def test_tf_threads_must_be_a_positive_int():
    with pytest.raises(ValueError, match=r"tf_threads must be None \(TensorFlow's default\) or an int >= 1, got 0"):
        TrainConfig(tf_threads=0)
