"""KerasCriticNetwork and KerasActorNetwork in TD3, DDPG and SAC: built inside the agents, copies (the
target networks, two critics each) share no variable, a train step moves the online weights, the
exported policy acts the same after a PolicySaver round trip, and what does not fit is refused."""

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.agents.ddpg import ddpg_agent
from tf_agents.agents.sac import sac_agent
from tf_agents.agents.td3 import td3_agent
from tf_agents.drivers import dynamic_step_driver
from tf_agents.environments import tf_py_environment
from tf_agents.policies import policy_saver
from tf_agents.replay_buffers import tf_uniform_replay_buffer
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts

from tfa_custom_nets import envs
from tfa_custom_nets.networks import KerasActorDistributionNetwork, KerasActorNetwork, KerasCriticNetwork


def critic():
    observation = tf.keras.Input((3,), name="observation")
    action = tf.keras.Input((1,), name="action")
    x = tf.keras.layers.Concatenate()([observation, action])
    return tf.keras.Model([observation, action], tf.keras.layers.Dense(1)(tf.keras.layers.Dense(32, "relu")(x)))


def actor():
    inputs = tf.keras.Input((3,), name="observation")
    return tf.keras.Model(inputs, tf.keras.layers.Dense(1)(tf.keras.layers.Dense(32, "relu")(inputs)))


def pendulum():
    return tf_py_environment.TFPyEnvironment(envs.load("Pendulum-v1", seed=0))


def experience_for(agent, env, steps=40):
    buffer = tf_uniform_replay_buffer.TFUniformReplayBuffer(agent.collect_data_spec, batch_size=1, max_length=100)
    dynamic_step_driver.DynamicStepDriver(env, agent.collect_policy, [buffer.add_batch], num_steps=steps).run()
    return buffer, next(iter(buffer.as_dataset(sample_batch_size=16, num_steps=2)))[0]


def test_td3_trains_keras_actor_and_critics_that_share_no_variable(tmp_path):
    env = pendulum()
    specs = (env.observation_spec(), env.action_spec())
    agent = td3_agent.Td3Agent(env.time_step_spec(), env.action_spec(),
                               actor_network=KerasActorNetwork(env.observation_spec(), env.action_spec(), actor),
                               critic_network=KerasCriticNetwork(specs, critic),
                               actor_optimizer=tf.keras.optimizers.Adam(1e-3),
                               critic_optimizer=tf.keras.optimizers.Adam(1e-3))
    agent.initialize()
    networks = [agent._actor_network, agent._target_actor_network, agent._critic_network_1, agent._critic_network_2,
                agent._target_critic_network_1, agent._target_critic_network_2]
    ids = [{id(v) for v in net.variables} for net in networks]
    assert all(ids) and sum(len(i) for i in ids) == len(set().union(*ids))  # six networks, no variable shared
    buffer, experience = experience_for(agent, env)
    assert np.all(np.abs(buffer.gather_all().action.numpy()) <= 2.0)  # squashed to Pendulum's torque bounds
    before = [v.numpy() for v in agent._critic_network_1.trainable_variables]
    assert np.isfinite(float(agent.train(experience).loss))
    assert all(not np.allclose(b, v.numpy()) for b, v in zip(before, agent._critic_network_1.trainable_variables))
    policy_saver.PolicySaver(agent.policy, batch_size=None).save(str(tmp_path / "policy"))
    steps = ts.restart(tf.random.stateless_uniform([6, 3], seed=[5, 6], minval=-1, maxval=1), batch_size=6)
    loaded = tf.saved_model.load(str(tmp_path / "policy"))  # kept: its variables live as long as it does
    np.testing.assert_allclose(loaded.action(steps).action.numpy(), agent.policy.action(steps).action.numpy(),
                               rtol=1e-5, atol=1e-6)


def test_ddpg_trains_a_keras_actor_and_critic_whose_targets_share_no_variable(tmp_path):
    env = pendulum()
    agent = ddpg_agent.DdpgAgent(env.time_step_spec(), env.action_spec(),
                                 actor_network=KerasActorNetwork(env.observation_spec(), env.action_spec(), actor),
                                 critic_network=KerasCriticNetwork((env.observation_spec(), env.action_spec()), critic),
                                 actor_optimizer=tf.keras.optimizers.Adam(1e-3),
                                 critic_optimizer=tf.keras.optimizers.Adam(1e-3))
    agent.initialize()
    networks = [agent._actor_network, agent._target_actor_network, agent._critic_network,
                agent._target_critic_network]
    ids = [{id(v) for v in net.variables} for net in networks]
    assert all(ids) and sum(len(i) for i in ids) == len(set().union(*ids))
    _, experience = experience_for(agent, env)
    online = agent._actor_network.trainable_variables + agent._critic_network.trainable_variables
    before = [v.numpy() for v in online]
    assert np.isfinite(float(agent.train(experience).loss))
    assert all(not np.allclose(b, v.numpy()) for b, v in zip(before, online))
    policy_saver.PolicySaver(agent.policy, batch_size=None).save(str(tmp_path / "policy"))
    steps = ts.restart(tf.random.stateless_uniform([6, 3], seed=[7, 8], minval=-1, maxval=1), batch_size=6)
    loaded = tf.saved_model.load(str(tmp_path / "policy"))
    np.testing.assert_allclose(loaded.action(steps).action.numpy(), agent.policy.action(steps).action.numpy(),
                               rtol=1e-5, atol=1e-6)


def test_sac_trains_a_keras_critic_beside_a_keras_actor():
    env = pendulum()

    def gaussian_actor():
        inputs = tf.keras.Input((3,), name="observation")
        trunk = tf.keras.layers.Dense(32, activation="relu")(inputs)
        return tf.keras.Model(inputs, {"mean": tf.keras.layers.Dense(1)(trunk), "std": tf.keras.layers.Dense(1)(trunk)})

    agent = sac_agent.SacAgent(
        env.time_step_spec(), env.action_spec(),
        critic_network=KerasCriticNetwork((env.observation_spec(), env.action_spec()), critic),
        actor_network=KerasActorDistributionNetwork(env.observation_spec(), env.action_spec(), gaussian_actor,
                                                    squash=True),
        actor_optimizer=tf.keras.optimizers.Adam(1e-3), critic_optimizer=tf.keras.optimizers.Adam(1e-3),
        alpha_optimizer=tf.keras.optimizers.Adam(1e-3))
    agent.initialize()
    _, experience = experience_for(agent, env)
    before = [v.numpy() for v in agent._critic_network_1.trainable_variables]
    assert np.isfinite(float(agent.train(experience).loss))
    assert all(not np.allclose(b, v.numpy()) for b, v in zip(before, agent._critic_network_1.trainable_variables))


OBS = tensor_spec.TensorSpec((3,), tf.float32)
TORQUE = tensor_spec.BoundedTensorSpec((1,), tf.float32, -2.0, 2.0)


def two_q_values():
    observation, action = tf.keras.Input((3,), name="observation"), tf.keras.Input((1,), name="action")
    return tf.keras.Model([observation, action], tf.keras.layers.Dense(2)(
        tf.keras.layers.Concatenate()([observation, action])))


def test_models_that_do_not_fit_are_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"takes 1 input\(s\); a critic takes two.*Model\(\[observation, action\]"):
        KerasCriticNetwork((OBS, TORQUE), actor)
    with pytest.raises(ValueError, match=r"expected one Q-value per \(observation, action\).*Dense\(1\)"):
        KerasCriticNetwork((OBS, TORQUE), two_q_values)
    with pytest.raises(ValueError, match=r"one float action spec of shape \(n,\).*KerasActorDistributionNetwork"):
        KerasActorNetwork(OBS, tensor_spec.BoundedTensorSpec((), tf.int64, 0, 2), actor)
    with pytest.raises(ValueError, match=r"shape \[1, 1\] for a batch of 1; expected \[B, 2\].*Dense\(2\)"):
        KerasActorNetwork(OBS, tensor_spec.BoundedTensorSpec((2,), tf.float32, -1.0, 1.0), actor)


def test_the_squashed_actor_stays_within_the_bounds_and_the_unsquashed_one_passes_the_output_through():
    def big():
        inputs = tf.keras.Input((3,), name="observation")
        dense = tf.keras.layers.Dense(1, kernel_initializer=tf.constant_initializer(100.0))
        return tf.keras.Model(inputs, dense(inputs))

    observations = tf.constant([[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]])
    squashed, _ = KerasActorNetwork(OBS, TORQUE, big)(observations)
    np.testing.assert_allclose(squashed.numpy(), [[2.0], [-2.0]], atol=1e-5)
    raw, _ = KerasActorNetwork(OBS, TORQUE, big, squash=False)(observations)
    np.testing.assert_allclose(raw.numpy(), [[300.0], [-300.0]], rtol=1e-5)
