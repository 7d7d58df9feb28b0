"""SAC through the training loop: a Keras actor and two Keras critics trained by TF-Agents' SacAgent, with
the run directory, compiled k-update step, checkpoints, resume and best policy the DQN runs have."""

import shutil

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts

from tests.tiny import tiny_sets
from tfa_custom_nets.training import (
    TrainConfig,
    load_preset,
    load_run_config,
    make_agent_for_env,
    make_env,
    make_train_step,
    override,
    train_eval,
)

SMALL = tiny_sets({"network.kwargs": {"hidden_units": [32, 32]}, "network.critic_kwargs": {"hidden_units": [32, 32]},
                   "replay.batch_size": 32, "total_env_steps": None, "eval_interval": None,
                   "checkpoint_interval": None})


def pendulum_sac(*sets):
    return override(load_preset("pendulum_sac"), [*SMALL, *sets])


def greedy_actions(policy_dir, observations):
    policy = tf.saved_model.load(str(policy_dir))
    batch = observations.shape[0]
    step = ts.TimeStep(step_type=tf.zeros([batch], tf.int32), reward=tf.zeros([batch]), discount=tf.ones([batch]),
                       observation=tf.constant(observations))
    return policy.action(step).action.numpy()


@pytest.mark.slow
def test_a_sac_run_trains_checkpoints_resumes_and_exports_a_bounded_greedy_policy(tmp_path):
    run_dir = tmp_path / "sac"
    config = pendulum_sac("total_env_steps=600", "eval_interval=300", "checkpoint_interval=300",
                          f"run_dir={str(run_dir)!r}")
    summary = train_eval(config)
    assert summary["env_steps"] == 600 and summary["updates"] == 400  # one update per env step after the warm-up
    assert np.isfinite(summary["eval_mean"]) and summary["threshold"] == -200.0
    observations = np.random.default_rng(0).uniform([-1, -1, -8], [1, 1, 8], (64, 3)).astype(np.float32)
    final = greedy_actions(run_dir / "policy", observations)
    assert final.shape == (64, 1) and np.all(np.abs(final) <= 2.0)  # tanh-squashed to the torque bounds
    assert np.array_equal(final, greedy_actions(run_dir / "policy", observations))  # the mode: no sampling
    assert np.all(np.abs(greedy_actions(run_dir / "best_policy", observations)) <= 2.0)
    checkpoint = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(run_dir / "checkpoints")))
    log_alpha = [name for name in checkpoint.get_variable_to_shape_map() if "log_alpha" in name]
    assert log_alpha and checkpoint.get_tensor(log_alpha[0]) != 0.0  # the temperature is learned and saved

    # A resume restores actor, critics, temperature and counters: with the finish files removed it
    # writes the same policy again.
    for finished in ("summary.json", "policy", "best_policy"):
        path = run_dir / finished
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    resumed = train_eval(load_run_config(run_dir / "config.json").replace(run_dir=str(run_dir)), resume=True)
    assert resumed["updates"] == 400 and resumed["env_steps"] == 600
    np.testing.assert_allclose(greedy_actions(run_dir / "policy", observations), final, atol=1e-6)


def test_the_compiled_k_update_step_runs_sac_updates_with_polyak_targets():
    config = pendulum_sac("agent.target_update_tau=0.5")
    env = make_env(config.env)
    agent, epsilon = make_agent_for_env(config, env, tf.Variable(0, dtype=tf.int64))
    env.close()
    assert float(epsilon()) == 0.0  # SAC explores by sampling its own policy
    experience = tensor_spec.sample_spec_nest(agent.collect_data_spec, seed=1,
                                              outer_dims=(32, 2))
    experience = experience._replace(step_type=tf.zeros_like(experience.step_type) + ts.StepType.MID,
                                     discount=tf.ones_like(experience.discount),  # an unbounded spec samples 1e37:
                                     reward=tf.random.uniform(experience.reward.shape, -1.0, 0.0, seed=2))
    batches = iter(tf.data.Dataset.from_tensors((experience, ())).repeat())
    train_step = make_train_step(agent, batches, config)
    online, target = agent._critic_network_1, agent._target_critic_network_1
    target_before = [v.numpy() for v in target.variables]
    actor_before = [v.numpy() for v in agent._actor_network.variables]
    loss, _ = train_step(1)
    assert np.isfinite(float(loss)) and int(agent.train_step_counter) == 1
    for old, new, weights in zip(target_before, target.variables, online.variables):
        np.testing.assert_allclose(new.numpy(), 0.5 * old + 0.5 * weights.numpy(), rtol=1e-5, atol=1e-6)
    train_step(3)  # three more in one compiled call: each a full agent.train
    assert int(agent.train_step_counter) == 4
    assert all(not np.array_equal(old, new.numpy()) for old, new in zip(actor_before, agent._actor_network.variables))
    assert not {id(v) for v in online.variables} & {id(v) for v in target.variables}


@pytest.mark.parametrize("sets, message", [
    (["network.critic_model=None"], "needs network.critic_model"),
    (["replay.prioritized=True"], "takes no prioritized replay"),
    (["agent.n_step_update=3"], "one-step transitions"),
])
def test_sac_configs_that_cannot_work_are_refused_with_the_fix(sets, message):
    with pytest.raises(ValueError, match=message):
        pendulum_sac(*sets)


def test_sac_on_a_discrete_action_env_says_which_agent_fits(tmp_path):
    config = override(TrainConfig(), ["agent.kind='sac'", "network.model='tfa_custom_nets.models:dense_actor_model'",
                                      "network.critic_model='tfa_custom_nets.models:dense_critic_model'",
                                      f"run_dir={str(tmp_path / 'r')!r}", "progress=False"])
    with pytest.raises(ValueError, match=r"needs a flat Box action .* Fix: agent.kind='dqn'"):
        train_eval(config)
    assert not (tmp_path / "r").exists()  # refused before the run directory exists


ARM_PPO = tiny_sets({"total_env_steps": 768, "num_envs": 4, "update_every": 256, "agent.ppo_epochs": 2,
                     "eval_interval": 384, "checkpoint_interval": 384, "replay.learning_starts": None,
                     "replay.batch_size": None, "replay.capacity": None,
                     "env.make_kwargs": {"joints": 2, "continuous": True, "max_episode_steps": 40},
                     "network.kwargs": {"hidden_units": [16], "activation": "tanh", "std_heads": False},
                     "network.critic_kwargs": {"hidden_units": [16]}})


@pytest.mark.slow
def test_a_ppo_run_on_the_mixed_action_arm_trains_resumes_and_exports_its_greedy_policy(tmp_path):
    run_dir = tmp_path / "ppo"
    summary = train_eval(override(load_preset("robot_arm_ppo"), [*ARM_PPO, f"run_dir={str(run_dir)!r}"]))
    assert summary["updates"] == 3 and 768 <= summary["env_steps"] < 768 + 3 * 4  # one update per rollout
    observations = np.random.default_rng(0).uniform(-1, 1, (16, 16)).astype(np.float32)
    policy = tf.saved_model.load(str(run_dir / "policy"))
    step = ts.TimeStep(step_type=tf.zeros([16], tf.int32), reward=tf.zeros([16]), discount=tf.ones([16]),
                       observation=tf.constant(observations))
    action = policy.action(step).action
    assert set(action) == {"grip", "turn"}
    assert set(action["grip"].numpy().tolist()) <= {0, 1} and np.all(np.abs(action["turn"].numpy()) <= 0.2 + 1e-6)
    for finished in ("summary.json", "policy", "best_policy"):
        path = run_dir / finished
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    resumed = train_eval(load_run_config(run_dir / "config.json").replace(run_dir=str(run_dir)), resume=True)
    assert resumed["updates"] == 3
    reloaded = tf.saved_model.load(str(run_dir / "policy"))  # kept: a dropped SavedModel frees its variables
    again = reloaded.action(step).action
    np.testing.assert_allclose(again["turn"].numpy(), action["turn"].numpy(), atol=1e-6)
    np.testing.assert_array_equal(again["grip"].numpy(), action["grip"].numpy())


@pytest.mark.slow
def test_the_ppo_update_trains_on_the_whole_rollout_with_the_collect_policys_distributions_and_empties_it():
    from tf_agents.drivers import py_driver

    from tfa_custom_nets.replay import RolloutReplay
    from tfa_custom_nets.training import make_collect_policy

    config = override(load_preset("robot_arm_ppo"), ARM_PPO)
    env = make_env(config.env)
    agent, epsilon = make_agent_for_env(config, env, tf.Variable(0, dtype=tf.int64))
    replay = RolloutReplay(agent.collect_data_spec, rollout_steps=64)
    policy = make_collect_policy(config, agent, None, seed=0, epsilon=epsilon)
    steps = []
    py_driver.PyDriver(env, policy, [replay.observer, steps.append], max_steps=64).run(env.reset())
    replay.commit()
    assert replay.size() == len(steps) >= 64  # every step, boundaries included, nothing dropped
    # The recorded policy info is the collect policy's distribution at each observation (PPO's old policy).
    recorded = tf.nest.map_structure(lambda *xs: np.stack(xs), *[s.policy_info for s in steps])
    count = len(steps)
    batch = ts.TimeStep(step_type=tf.constant(np.stack([s.step_type for s in steps])), reward=tf.zeros([count]),
                        discount=tf.ones([count]), observation=tf.constant(np.stack([s.observation for s in steps])))
    distribution = agent.collect_policy.distribution(batch).action  # observations normalised as PPO does
    np.testing.assert_allclose(recorded["dist_params"]["grip"]["logits"], distribution["grip"].logits_parameter(),
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(recorded["dist_params"]["turn"]["loc"], distribution["turn"].mean(), rtol=1e-5,
                               atol=1e-5)
    before = [v.numpy() for v in agent.collect_policy.variables()]
    train_step = make_train_step(agent, replay.batches, config)
    loss, _ = train_step(1)
    assert np.isfinite(float(loss)) and int(agent.train_step_counter) == 2  # ppo_epochs passes over the rollout
    assert replay.size() == 0  # the next rollout starts empty
    assert any(not np.array_equal(old, new.numpy()) for old, new in zip(before, agent.collect_policy.variables()))
    env.close()
