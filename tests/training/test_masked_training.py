"""Action masks over whole training runs: the warm-up, the collect policy (epsilon-greedy and
ez-greedy), the greedy evaluations and the exported SavedModel take no action the env's mask rules
out, counted by the env at every step; the same run without the mask takes many."""

import json
import shutil

import gymnasium as gym
import numpy as np
import pytest

from tfa_custom_nets import cli, envs
from tfa_custom_nets.training import EnvConfig, TrainConfig, load_run_config, override, train_eval

TAXI_MODEL = "tfa_custom_nets.presets.taxi:build_q_model"


def short(config, tmp_path, name):
    return override(config, [
        "total_env_steps=1500", "replay.learning_starts=500", "replay.batch_size=32", "eval_interval=1500",
        "eval_episodes=5", "checkpoint_interval=1500", "progress=False", "agent.epsilon_decay_steps=1000",
        f"run_dir={str(tmp_path / name)!r}"])


def taxi(action_mask):
    return TrainConfig(env=EnvConfig(id="Taxi-v4", action_mask=action_mask), num_envs=4, update_every=2)


@pytest.mark.slow
def test_masked_taxi_run_takes_no_invalid_action_and_the_unmasked_one_takes_many(tmp_path, capsys):
    masked = short(override(taxi("info"), [f"network.model={TAXI_MODEL!r}", "network.kwargs={'embedding': 8, "
                                                                           "'hidden_units': [16]}"]), tmp_path, "m")
    summary = train_eval(masked)
    assert summary["invalid_actions"] == {"collect": 0, "greedy_eval": 0}
    assert summary["env_steps"] >= 1500
    unmasked = short(override(taxi(None), [f"network.model={TAXI_MODEL!r}", "network.kwargs={'embedding': 8, "
                                                                           "'hidden_units': [16]}"]), tmp_path, "u")
    counts = train_eval(unmasked)["invalid_actions"]
    assert counts["collect"] > 300  # the random warm-up alone picks a ruled-out move about half the time
    # The counts live in the checkpoint: a resume of the finished run (its finish removed) collects nothing
    # more and still reports them.
    for finished in ("summary.json", "policy", "best_policy"):
        path = tmp_path / "u" / finished
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    resumed = train_eval(load_run_config(tmp_path / "u" / "config.json").replace(run_dir=str(tmp_path / "u")),
                         resume=True)["invalid_actions"]
    assert resumed["collect"] == counts["collect"] and resumed["greedy_eval"] >= counts["greedy_eval"]
    # The exported policy, loaded by `tfa-nets eval`, feeds the env's mask to the SavedModel.
    assert cli.main(["eval", str(tmp_path / "m"), "--episodes", "4"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["invalid_actions"] == 0


@pytest.mark.slow
@pytest.mark.reverb
def test_masked_taxi_on_prioritized_reverb_replay_takes_no_invalid_action(tmp_path):
    config = short(override(taxi("info"), [f"network.model={TAXI_MODEL!r}", "network.kwargs={'embedding': 8, "
                                                                           "'hidden_units': [16]}",
                                           "replay.prioritized=True"]), tmp_path, "p")
    assert config.uses_reverb  # the masks travel through Reverb's table and back into the update
    summary = train_eval(config)
    assert summary["invalid_actions"] == {"collect": 0, "greedy_eval": 0} and summary["updates"] >= 400


@pytest.mark.slow
@pytest.mark.parametrize("exploration", ["epsilon_greedy", "ez_greedy"])
def test_masked_branching_run_with_joint_limits_takes_no_invalid_action(exploration, tmp_path):
    config = TrainConfig(env=EnvConfig(id="tfa_custom_nets/RobotArm-v0", action_mask="info",
                                       make_kwargs={"joints": 2, "bins": 5, "joint_limit": 0.5}),
                         num_envs=2, update_every=4)
    config = short(override(config, ["agent.kind='bdq'", "network.model='tfa_custom_nets.models:branching_q_model'",
                                     "network.kwargs={'hidden_units': [16], 'head_units': 8}",
                                     f"agent.exploration={exploration!r}", "agent.ez_mu=0.0"]), tmp_path, exploration)
    summary = train_eval(config)
    # With limits of +-0.5 rad a turn past a limit is on offer at most steps: masked, none is taken.
    assert summary["invalid_actions"] == {"collect": 0, "greedy_eval": 0}
    # The `evaluate:` line a run prints works for a masked branching run (TF-Agents' loader warms the
    # SavedModel up with an all-zero mask).
    assert cli.main(["eval", summary["run_dir"], "--episodes", "2", "--policy", "best"]) == 0


@pytest.mark.slow
def test_joint_actions_take_the_joint_mask_and_the_stock_agent_respects_it(tmp_path):
    """MultiDiscrete([5, 5, 2]) as 50 joint indices: a combination is valid when each branch action is."""
    wrapper = envs.JointActionWrapper(gym.make("tfa_custom_nets/RobotArm-v0", joints=1, bins=3, joint_limit=1.0))
    info = wrapper._joint_mask({"action_mask": np.array([1, 0, 1, 0, 1], np.int8)})  # turns {0, 2}, gripper {1}
    assert np.flatnonzero(info["action_mask"]).tolist() == [wrapper.joint_index([0, 1]), wrapper.joint_index([2, 1])]
    with pytest.raises(ValueError, match=r"shape \(4,\); expected \(5,\).*3 \+ 2"):
        wrapper._joint_mask({"action_mask": np.ones(4)})
    config = TrainConfig(env=EnvConfig(id="tfa_custom_nets/RobotArm-v0", action_mask="info", joint_actions=True,
                                       make_kwargs={"joints": 2, "bins": 5, "joint_limit": 0.5}),
                         num_envs=2, update_every=4)
    config = short(override(config, ["agent.kind='ddqn'", "network.model='tfa_custom_nets.models:branching_q_model'",
                                     "network.kwargs={'hidden_units': [16], 'head_units': 8}"]), tmp_path, "joint")
    assert train_eval(config)["invalid_actions"] == {"collect": 0, "greedy_eval": 0}


def test_joint_limits_clip_the_arm_and_mask_the_turns_that_cross_them():
    env = envs.load("tfa_custom_nets/RobotArm-v0", seed=0, action_mask="info", joints=2, bins=5, joint_limit=0.5)
    arm = env.gym_env.unwrapped
    step = env.reset()
    assert np.all(np.abs(arm.angles) <= 0.5)
    for _ in range(10):  # turn both joints +0.2 as long as the mask allows it
        step = env.step(np.array([4, 4, 0]) if step.observation["action_mask"][4] else np.array([2, 2, 0]))
    assert env.invalid_actions == 0
    np.testing.assert_allclose(arm.angles, 0.5, atol=0.2 + 4 * arm.turn_noise)
    mask = step.observation["action_mask"]
    expected = np.abs(arm.angles[:, None] + arm.turns[None, :]) <= 0.5 + 1e-9
    np.testing.assert_array_equal(mask, np.concatenate([expected.ravel(), [True, True]]).astype(np.int8))
    assert mask[2] == mask[7] == 1  # turning 0 is always possible
    env.step(np.array([4, 4, 0]))  # past the limit if +0.2 is ruled out: clipped, and counted
    assert np.all(arm.angles <= 0.5) and env.invalid_actions == int(not (mask[4] and mask[9]))


@pytest.mark.parametrize("values, message", [
    ({"action_mask": "yes"}, "env.action_mask must be None, 'info' or 'observation'"),
    ({"action_mask": "observation", "joint_actions": True}, "only from info\\['action_mask'\\].*kind='bdq'"),
])
def test_mask_config_values_are_checked(values, message):
    with pytest.raises(ValueError, match=message):
        EnvConfig(id="tfa_custom_nets/RobotArm-v0", **values)
