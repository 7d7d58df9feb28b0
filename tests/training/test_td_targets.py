"""Termination vs truncation, end to end, against numbers worked out by hand.

A 3-step scripted episode goes through the real path: gymnasium adapter ->
PyDriver -> ReverbAddTrajectoryObserver -> Reverb -> DqnAgent.loss.

The Q-network is constant: Q(s) = [1, 2] for every s (zero kernel, bias [1, 2]),
the policy always takes action 0, gamma = 0.5, and the env pays reward t on step t.
DqnAgent's target is r + gamma * discount * max_a Q_target(s') = r + discount.

  step   reward  discount (terminated)  target  error   discount (truncated)  target  error
  1      1       1                      2       1       1                     2       1
  2      2       1                      3       2       1                     3       2
  3      3       0                      3       2       1                     4       3

Squared-error loss, mean over the batch: terminated (1 + 4 + 4) / 3 = 3;
truncated (1 + 4 + 9) / 3 = 14 / 3.

n-step (n = 2): replay items hold 3 steps, written only inside an episode, so the
episode gives two items, starting at s0 and s1. TF-Agents' n-step transition sums
reward = r_t + gamma * d_t * r_{t+1} and bootstraps with
gamma * gamma^(n-1) * d_t * d_{t+1} * max Q_target(s_{t+2}):

  first step  rewards  discounts (term.)  target (term.)             discounts (trunc.)  target (trunc.)
  s0          1, 2     1, 1               1 + 1 + 0.5*0.5*2 = 2.5    1, 1                2.5
  s1          2, 3     1, 0               2 + 1.5 + 0       = 3.5    1, 1                3.5 + 0.5 = 4.0

Loss: terminated (1.5^2 + 2.5^2) / 2 = 4.25; truncated (1.5^2 + 3^2) / 2 = 5.625.

The loss is read from `agent.train()` with a zero learning rate: in tf-agents 0.19
the public `DqnAgent.loss()` calls `_loss` with its default gamma of 1.0, not the
agent's gamma (it would report 17 / 3 here); `train()` passes the agent's gamma.
"""

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
from tf_agents.agents.dqn import dqn_agent
from tf_agents.drivers import py_driver
from tf_agents.policies import scripted_py_policy
from tf_agents.specs import tensor_spec
from tf_agents.utils import common

from tests.conftest import ScriptedEnv
from tfa_custom_nets import envs, replay
from tfa_custom_nets.networks import KerasQNetwork


def constant_q_model(observation_spec):
    inputs = tf.keras.Input(observation_spec.shape)
    q = tf.keras.layers.Dense(2, kernel_initializer="zeros",
                              bias_initializer=tf.keras.initializers.Constant([1.0, 2.0]))(inputs)
    return tf.keras.Model(inputs, q)


def loss_on_one_episode(raw_env, steps, n_step_update=1):
    env = envs.load(raw_env, seed=0)
    time_step_spec = tensor_spec.from_spec(env.time_step_spec())
    action_spec = tensor_spec.from_spec(env.action_spec())
    agent = dqn_agent.DqnAgent(
        time_step_spec, action_spec,
        q_network=KerasQNetwork(time_step_spec.observation, action_spec,
                                constant_q_model(time_step_spec.observation)),
        optimizer=tf.keras.optimizers.SGD(0.0), gamma=0.5, n_step_update=n_step_update,
        td_errors_loss_fn=common.element_wise_squared_loss)
    agent.initialize()
    # The in-memory replay's sampler draws the windows; a large batch holds each of the few there are,
    # and the rewards (1, 2, 3, ...) put them in order.
    buffer = replay.make_memory_buffer(agent.collect_data_spec, capacity=100)
    observer = replay.MemoryObserver(buffer)
    policy = scripted_py_policy.ScriptedPyPolicy(env.time_step_spec(), env.action_spec(), [(steps + 1, np.int64(0))])
    py_driver.PyDriver(env, policy, [observer], max_steps=steps + 1).run(env.reset(), policy.get_initial_state())
    observer.flush()
    items = steps + 1 - n_step_update  # windows of n + 1 steps inside the episode
    batch, _ = next(replay.make_memory_sampler(buffer, batch_size=500, n_step_update=n_step_update))
    _, first = np.unique(batch.reward[:, 0].numpy(), return_index=True)
    experience = tf.nest.map_structure(lambda x: tf.gather(x, first), batch)
    np.testing.assert_array_equal(experience.reward[:, 0].numpy(), np.arange(1, items + 1))
    return experience, float(agent.train(experience).loss)


def test_termination_does_not_bootstrap():
    experience, loss = loss_on_one_episode(ScriptedEnv(terminate_at=3), steps=3)
    np.testing.assert_array_equal(experience.discount[:, 0].numpy(), [1.0, 1.0, 0.0])
    assert loss == pytest.approx(3.0)


def test_time_limit_truncation_bootstraps():
    experience, loss = loss_on_one_episode(
        gym.wrappers.TimeLimit(ScriptedEnv(), max_episode_steps=3), steps=3)
    np.testing.assert_array_equal(experience.discount[:, 0].numpy(), [1.0, 1.0, 1.0])
    assert loss == pytest.approx(14.0 / 3.0)


def test_n_step_return_stops_at_termination():
    experience, loss = loss_on_one_episode(ScriptedEnv(terminate_at=3), steps=3, n_step_update=2)
    np.testing.assert_array_equal(experience.discount[:, :2].numpy(), [[1.0, 1.0], [1.0, 0.0]])
    assert loss == pytest.approx(4.25)


def test_n_step_return_bootstraps_across_truncation():
    experience, loss = loss_on_one_episode(
        gym.wrappers.TimeLimit(ScriptedEnv(), max_episode_steps=3), steps=3, n_step_update=2)
    np.testing.assert_array_equal(experience.discount[:, :2].numpy(), [[1.0, 1.0], [1.0, 1.0]])
    assert loss == pytest.approx(5.625)
