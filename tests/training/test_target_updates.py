"""Target networks: soft (Polyak) and hard periodic updates by hand, and independence from the online net."""

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

from tfa_custom_nets import envs
from tfa_custom_nets.training import (
    AgentConfig,
    EnvConfig,
    NetworkConfig,
    TrainConfig,
    branch_spec,
    make_agent,
    make_env,
)

NETWORKS = {"ddqn": (EnvConfig(id="CartPole-v1"), NetworkConfig(kwargs={"hidden_units": [4]})),
            "bdq": (EnvConfig(id=envs.ROBOT_ARM_ID), NetworkConfig(model="tfa_custom_nets.models:branching_q_model",
                                                                   kwargs={"hidden_units": [4], "head_units": 3}))}


def agent_with(kind, tau, period):
    env_config, network = NETWORKS[kind]
    config = TrainConfig(env=env_config, network=network,
                         agent=AgentConfig(kind=kind, target_update_tau=tau, target_update_period=period))
    env = make_env(config.env)
    action_spec = tensor_spec.from_spec(env.action_spec())
    agent, _ = make_agent(config, tensor_spec.from_spec(env.time_step_spec()), action_spec,
                          tf.Variable(0, dtype=tf.int64), branch_spec(env, action_spec))
    env.close()
    return agent


def fill(network, value):
    for variable in network.variables:
        variable.assign(tf.fill(variable.shape, tf.cast(value, variable.dtype)))


def target_values(agent):
    values = np.unique(np.concatenate([v.numpy().ravel() for v in agent._target_q_network.variables]))
    assert values.size == 1, "every target variable should hold the same number here"
    return float(values[0])


@pytest.mark.parametrize("kind", ["ddqn", "bdq"])
def test_soft_update_is_polyak_averaging_by_hand(kind):
    agent = agent_with(kind, tau=0.1, period=1)
    fill(agent._q_network, 1.0)
    fill(agent._target_q_network, 0.0)
    agent._update_target()
    assert target_values(agent) == pytest.approx(0.1)            # 0.1 * 1 + 0.9 * 0
    agent._update_target()
    assert target_values(agent) == pytest.approx(0.19)           # 0.1 * 1 + 0.9 * 0.1
    fill(agent._q_network, 5.0)                                  # the online net moves; the target does not
    assert target_values(agent) == pytest.approx(0.19)


@pytest.mark.parametrize("kind", ["ddqn", "bdq"])
def test_hard_update_copies_every_period_updates(kind):
    agent = agent_with(kind, tau=1.0, period=3)
    fill(agent._q_network, 1.0)
    fill(agent._target_q_network, 0.0)
    seen = []
    for update in range(1, 7):
        if update == 4:
            fill(agent._q_network, 2.0)
        agent._update_target()
        seen.append(target_values(agent))
    assert seen == [0.0, 0.0, 1.0, 1.0, 1.0, 2.0]                # copies on updates 3 and 6 only


@pytest.mark.parametrize("schedule, expected", [
    ("linear", [1.0, 1.0, 0.55, 0.1, 0.1]),                   # 1 -> 0.1 in equal steps over 1000 env steps
    ("exponential", [1.0, 1.0, 0.1 ** 0.5, 0.1, 0.1]),        # the same factor each step: 1 * 0.1 ** progress
])
def test_epsilon_schedules_by_hand(schedule, expected):
    config = TrainConfig(network=NetworkConfig(kwargs={"hidden_units": [4]}),
                         agent=AgentConfig(epsilon_start=1.0, epsilon_end=0.1, epsilon_decay_steps=1000,
                                           epsilon_schedule=schedule))
    env = make_env(config.env)
    env_steps = tf.Variable(0, dtype=tf.int64)
    _, epsilon = make_agent(config, tensor_spec.from_spec(env.time_step_spec()),
                            tensor_spec.from_spec(env.action_spec()), env_steps)
    env.close()
    seen = []
    for step in (0, 1000, 1500, 2000, 5000):                  # warm-up (learning_starts) is 1000 steps
        env_steps.assign(step)
        seen.append(float(epsilon()))
    np.testing.assert_allclose(seen, expected, rtol=1e-6)
