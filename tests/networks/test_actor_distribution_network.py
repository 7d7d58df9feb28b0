"""KerasActorDistributionNetwork and KerasValueNetwork: the distributions worked out by hand (the
log-probability of a mixed discrete + continuous action is the sum over its components), PPO's
and REINFORCE's contract (build, copy shares nothing, a train step moves the weights, PolicySaver round
trip), SAC's
tanh-squashed actor, and the fix-it errors."""

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
from tf_agents.agents.ppo import ppo_clip_agent
from tf_agents.agents.reinforce import reinforce_agent
from tf_agents.drivers import dynamic_step_driver
from tf_agents.environments import tf_py_environment
from tf_agents.policies import greedy_policy, policy_saver
from tf_agents.replay_buffers import tf_uniform_replay_buffer
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts
from tf_agents.utils import common

from tfa_custom_nets import envs
from tfa_custom_nets.networks import KerasActorDistributionNetwork, KerasValueNetwork

OBS = tensor_spec.TensorSpec((6,), tf.float32, name="observation")
MIXED = {"turn": tensor_spec.BoundedTensorSpec((2,), tf.float32, -1.0, 1.0, name="turn"),
         "grip": tensor_spec.BoundedTensorSpec((), tf.int64, 0, 1, name="grip")}


def mixed_actor(std_activation=None, heads=None):
    inputs = tf.keras.Input((6,), name="observation")
    trunk = tf.keras.layers.Dense(16, activation="tanh")(inputs)
    outputs = {"turn_mean": tf.keras.layers.Dense(2)(trunk),
               "turn_std": tf.keras.layers.Dense(2, activation=std_activation)(trunk),
               "grip_logits": tf.keras.layers.Dense(2)(trunk)}
    if heads is not None:
        outputs = heads(trunk)
    return tf.keras.Model(inputs, outputs)


def value_model():
    inputs = tf.keras.Input((6,), name="observation")
    return tf.keras.Model(inputs, tf.keras.layers.Dense(1)(tf.keras.layers.Dense(16, activation="tanh")(inputs)))


def test_log_probability_of_a_mixed_action_is_the_sum_over_components_by_hand():
    """Zero kernels: the heads give their biases. turn: mean [0.5, -0.5], std exp(0) = 1 (std="positive",
    exponential activation); grip: logits [0, ln 3], so P(grip = 1) = 3/4.
    Action turn = [0.5, 1.5], grip = 1:
      log N(0.5; 0.5, 1) = -0.5 ln(2 pi)             = -0.918939
      log N(1.5; -0.5, 1) = -0.5 * 2^2 - 0.5 ln(2 pi) = -2.918939
      log P(grip = 1) = ln 0.75                       = -0.287682
      sum                                             = -4.125560"""
    def constant_model():
        inputs = tf.keras.Input((6,), name="observation")
        zeros = {"kernel_initializer": "zeros"}
        mean = tf.keras.layers.Dense(2, bias_initializer=tf.constant_initializer([0.5, -0.5]), **zeros)
        return tf.keras.Model(inputs, {
            "turn_mean": mean(inputs),
            "turn_std": tf.keras.layers.Dense(2, activation="exponential", **zeros)(inputs),
            "grip_logits": tf.keras.layers.Dense(2, bias_initializer=tf.constant_initializer([0.0, np.log(3.0)]),
                                                 **zeros)(inputs)})

    net = KerasActorDistributionNetwork(OBS, MIXED, constant_model, std="positive")
    distributions, _ = net(tf.zeros([1, 6]))
    action = {"turn": tf.constant([[0.5, 1.5]]), "grip": tf.constant([1], tf.int64)}
    expected = -0.5 * np.log(2 * np.pi) + (-2.0 - 0.5 * np.log(2 * np.pi)) + np.log(0.75)
    np.testing.assert_allclose(common.log_probability(distributions, action, MIXED).numpy(), [expected], rtol=1e-6)
    np.testing.assert_allclose(distributions["turn"].stddev().numpy(), [[1.0, 1.0]])
    assert distributions["grip"].mode().numpy().tolist() == [1]


class MixedActionEnv(gym.Env):
    """A Dict action of a 2-D turn and a grip; reward for turn close to the observation's first two
    entries and for gripping when the third is positive."""

    def __init__(self):
        self.observation_space = gym.spaces.Box(-1.0, 1.0, (6,), np.float32)
        self.action_space = gym.spaces.Dict({"turn": gym.spaces.Box(-1.0, 1.0, (2,), np.float32),
                                             "grip": gym.spaces.Discrete(2)})
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        self.state = self.np_random.uniform(-1, 1, 6).astype(np.float32)
        return self.state, {}

    def step(self, action):
        reward = -float(np.sum((np.clip(action["turn"], -1, 1) - self.state[:2]) ** 2))
        reward += float(action["grip"] == int(self.state[2] > 0))
        self.t += 1
        self.state = self.np_random.uniform(-1, 1, 6).astype(np.float32)
        return self.state, reward, False, self.t >= 10, {}


def ppo_agent(std="softplus"):
    env = tf_py_environment.TFPyEnvironment(envs.load(MixedActionEnv(), seed=0))
    heads = None
    if std == "state_independent":  # no std head: a trainable log-std per dimension instead
        heads = lambda t: {"turn_mean": tf.keras.layers.Dense(2)(t), "grip_logits": tf.keras.layers.Dense(2)(t)}  # noqa: E731
    actor = KerasActorDistributionNetwork(env.observation_spec(), env.action_spec(),
                                          lambda: mixed_actor(heads=heads), std=std)
    agent = ppo_clip_agent.PPOClipAgent(env.time_step_spec(), env.action_spec(), tf.keras.optimizers.Adam(1e-3),
                                        actor_net=actor, value_net=KerasValueNetwork(env.observation_spec(),
                                                                                     value_model),
                                        num_epochs=1, train_step_counter=tf.Variable(0, dtype=tf.int64))
    agent.initialize()
    return env, agent, actor


@pytest.mark.parametrize("std", ["softplus", "state_independent"])
def test_ppo_trains_a_mixed_action_actor_and_the_saved_policy_gives_the_same_actions(std, tmp_path):
    env, agent, actor = ppo_agent(std)
    twin = actor.copy()
    twin.create_variables(env.observation_spec())
    assert not {id(v) for v in twin.variables} & {id(v) for v in actor.variables}
    assert any(not np.allclose(a, b) for a, b in zip(twin.get_weights(), actor.get_weights()))
    buffer = tf_uniform_replay_buffer.TFUniformReplayBuffer(agent.collect_data_spec, batch_size=1, max_length=64)
    dynamic_step_driver.DynamicStepDriver(env, agent.collect_policy, [buffer.add_batch], num_steps=30).run()
    before = [v.numpy() for v in actor.trainable_variables]
    assert len(before) == (7 if std == "state_independent" else 8)  # 4 Dense layers, or 3 and the log-std
    loss = agent.train(buffer.gather_all()).loss
    assert np.isfinite(float(loss))
    assert all(not np.allclose(b, v.numpy()) for b, v in zip(before, actor.trainable_variables))
    policy = greedy_policy.GreedyPolicy(agent.policy)
    policy_saver.PolicySaver(policy, batch_size=None).save(str(tmp_path / "policy"))
    loaded = tf.saved_model.load(str(tmp_path / "policy"))
    observations = tf.random.stateless_uniform([5, 6], seed=[1, 2], minval=-1, maxval=1)
    steps = ts.restart(observations, batch_size=5)
    ours, theirs = policy.action(steps).action, loaded.action(steps).action
    np.testing.assert_allclose(theirs["turn"].numpy(), ours["turn"].numpy(), rtol=1e-5, atol=1e-6)  # 9e-8 apart seen
    np.testing.assert_array_equal(theirs["grip"].numpy(), ours["grip"].numpy())


def test_reinforce_trains_a_mixed_action_actor_with_a_keras_value_baseline(tmp_path):
    env = tf_py_environment.TFPyEnvironment(envs.load(MixedActionEnv(), seed=0))
    actor = KerasActorDistributionNetwork(env.observation_spec(), env.action_spec(), mixed_actor)
    value = KerasValueNetwork(env.observation_spec(), value_model)
    agent = reinforce_agent.ReinforceAgent(env.time_step_spec(), env.action_spec(), actor_network=actor,
                                           optimizer=tf.keras.optimizers.Adam(1e-3), value_network=value,
                                           train_step_counter=tf.Variable(0, dtype=tf.int64))
    agent.initialize()
    buffer = tf_uniform_replay_buffer.TFUniformReplayBuffer(agent.collect_data_spec, batch_size=1, max_length=64)
    dynamic_step_driver.DynamicStepDriver(env, agent.collect_policy, [buffer.add_batch], num_steps=40).run()
    before = [v.numpy() for v in actor.trainable_variables + value.trainable_variables]
    assert np.isfinite(float(agent.train(buffer.gather_all()).loss))
    after = actor.trainable_variables + value.trainable_variables
    assert all(not np.allclose(b, v.numpy()) for b, v in zip(before, after))  # actor and baseline both learn
    policy = greedy_policy.GreedyPolicy(agent.policy)
    policy_saver.PolicySaver(policy, batch_size=None).save(str(tmp_path / "policy"))
    loaded = tf.saved_model.load(str(tmp_path / "policy"))
    steps = ts.restart(tf.random.stateless_uniform([5, 6], seed=[3, 4], minval=-1, maxval=1), batch_size=5)
    ours, theirs = policy.action(steps).action, loaded.action(steps).action
    np.testing.assert_allclose(theirs["turn"].numpy(), ours["turn"].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(theirs["grip"].numpy(), ours["grip"].numpy())


def test_a_squashed_actor_keeps_samples_within_the_bounds():
    box = tensor_spec.BoundedTensorSpec((2,), tf.float32, [-2.0, 0.0], [2.0, 1.0])

    def actor():
        inputs = tf.keras.Input((6,), name="observation")
        return tf.keras.Model(inputs, [tf.keras.layers.Dense(2, name="mean")(inputs),
                                       tf.keras.layers.Dense(2, name="std")(inputs)])

    net = KerasActorDistributionNetwork(OBS, box, actor, squash=True)
    distribution, _ = net(tf.random.stateless_normal([500, 6], seed=[3, 4]) * 10)
    samples = distribution.sample().numpy()
    assert np.all(samples >= [-2.0, 0.0]) and np.all(samples <= [2.0, 1.0])
    assert samples[:, 0].min() < -1 and samples[:, 0].max() > 1  # spread over the range, not stuck in the middle


@pytest.mark.parametrize("heads, kwargs, message", [
    (lambda t: {"turn_mean": tf.keras.layers.Dense(2)(t), "grip_logits": tf.keras.layers.Dense(2)(t)}, {},
     r"needs exactly \['grip_logits', 'turn_mean', 'turn_std'\] \(missing \['turn_std'\]\)"),
    (lambda t: {"turn_mean": tf.keras.layers.Dense(3)(t), "turn_std": tf.keras.layers.Dense(2)(t),
                "grip_logits": tf.keras.layers.Dense(2)(t)}, {}, r"turn_mean has shape \[B, 3\]; expected \[B, 2\]"),
    (lambda t: {"turn_mean": tf.keras.layers.Dense(2)(t), "turn_std": tf.keras.layers.Dense(2)(t),
                "grip_mean": tf.keras.layers.Dense(1)(t), "grip_std": tf.keras.layers.Dense(1)(t)}, {},
     r"grip is Discrete \(2 choices\) but the model gives it a mean/std pair; expected one output named grip_logits"),
    (None, {"std": "positive"}, r"std='positive' takes output turn_std as it is.*activation 'linear'"),
    (None, {"std": "state_independent"}, r"\(unused \['turn_std'\]\)"),
])
def test_outputs_that_do_not_fit_the_action_spec_are_refused_with_the_fix(heads, kwargs, message):
    with pytest.raises(ValueError, match=message):
        KerasActorDistributionNetwork(OBS, MIXED, lambda: mixed_actor(heads=heads), **kwargs)


def test_a_value_model_with_more_than_one_output_is_refused():
    def two_values():
        inputs = tf.keras.Input((6,), name="observation")
        return tf.keras.Model(inputs, tf.keras.layers.Dense(2)(inputs))

    with pytest.raises(ValueError, match=r"shape \[1, 2\] for a batch of 1; expected one value.*Dense\(1\)"):
        KerasValueNetwork(OBS, two_values)
    values, _ = KerasValueNetwork(OBS, value_model)(tf.zeros([3, 6]))
    assert values.shape == (3,)


def test_sac_trains_a_squashed_keras_actor():
    from tf_agents.agents.ddpg import critic_network
    from tf_agents.agents.sac import sac_agent

    env = tf_py_environment.TFPyEnvironment(envs.load("Pendulum-v1", seed=0))

    def actor():
        inputs = tf.keras.Input((3,), name="observation")
        trunk = tf.keras.layers.Dense(16, activation="relu")(inputs)
        return tf.keras.Model(inputs, {"mean": tf.keras.layers.Dense(1)(trunk), "std": tf.keras.layers.Dense(1)(trunk)})

    actor_net = KerasActorDistributionNetwork(env.observation_spec(), env.action_spec(), actor, squash=True)
    critic = critic_network.CriticNetwork((env.observation_spec(), env.action_spec()), joint_fc_layer_params=(16,))
    agent = sac_agent.SacAgent(env.time_step_spec(), env.action_spec(), critic_network=critic, actor_network=actor_net,
                               actor_optimizer=tf.keras.optimizers.Adam(1e-3),
                               critic_optimizer=tf.keras.optimizers.Adam(1e-3),
                               alpha_optimizer=tf.keras.optimizers.Adam(1e-3))
    agent.initialize()
    buffer = tf_uniform_replay_buffer.TFUniformReplayBuffer(agent.collect_data_spec, batch_size=1, max_length=100)
    dynamic_step_driver.DynamicStepDriver(env, agent.collect_policy, [buffer.add_batch], num_steps=40).run()
    assert np.all(np.abs(buffer.gather_all().action.numpy()) <= 2.0)  # Pendulum's torque bounds
    experience, _ = next(iter(buffer.as_dataset(sample_batch_size=16, num_steps=2)))
    before = [v.numpy() for v in actor_net.trainable_variables]
    assert np.isfinite(float(agent.train(experience).loss))
    assert any(not np.allclose(b, v.numpy()) for b, v in zip(before, actor_net.trainable_variables))
