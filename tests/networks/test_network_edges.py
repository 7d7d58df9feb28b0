"""Numbers the networks must get exactly right, and the spec edges they refuse: the standard deviation of
each std mode from a known model, which critic input receives which tensor, unbounded Box actions under a
tanh squash, a dict observation with a key named `action`."""

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

from tfa_custom_nets.networks import KerasActorDistributionNetwork, KerasActorNetwork, KerasCriticNetwork

OBS = tensor_spec.TensorSpec((3,), tf.float32, name="observation")
BOX = tensor_spec.BoundedTensorSpec((2,), tf.float32, -1.0, 1.0, name="action")
UNBOUNDED = tensor_spec.BoundedTensorSpec((2,), tf.float32, -np.inf, np.inf, name="action")


def constant(units, values, activation=None):
    """A Dense layer whose output is `activation(values)` whatever its input (zero kernel)."""
    return tf.keras.layers.Dense(units, activation=activation, kernel_initializer="zeros",
                                 bias_initializer=tf.constant_initializer(values))


def softplus(x):
    return float(np.log1p(np.exp(x)))


@pytest.mark.parametrize("mode, std_head, expected_std", [
    # softplus of the std output, plus min_std (1e-3)
    ("softplus", lambda: constant(2, [0.0, 1.0]), [softplus(0.0) + 1e-3, softplus(1.0) + 1e-3]),
    # taken as it is: the layer's own softplus, no min_std
    ("positive", lambda: constant(2, [0.0, 1.0], "softplus"), [softplus(0.0), softplus(1.0)]),
    # no std output: exp(log(init_std)) + min_std
    ("state_independent", None, [2.0 + 1e-3, 2.0 + 1e-3]),
])
def test_each_std_mode_gives_the_mean_and_std_worked_out_by_hand(mode, std_head, expected_std):
    def model():
        inputs = tf.keras.Input((3,), name="observation")
        outputs = {"mean": constant(2, [0.5, -0.5])(inputs)}
        if std_head is not None:
            outputs["std"] = std_head()(inputs)
        return tf.keras.Model(inputs, outputs)

    net = KerasActorDistributionNetwork(OBS, BOX, model, std=mode, init_std=2.0)
    distribution, _ = net(tf.random.normal((4, 3)))
    np.testing.assert_allclose(distribution.mean().numpy(), [[0.5, -0.5]] * 4, rtol=1e-6)
    np.testing.assert_allclose(distribution.stddev().numpy(), [expected_std] * 4, rtol=1e-5)
    copied, _ = net.copy(name="copy")(tf.zeros((1, 3)))
    np.testing.assert_allclose(copied.stddev().numpy(), [expected_std], rtol=1e-5)  # a copy makes the same


def critic_reading_one_input(order, read):
    """Q = sum of the input named `read` times 10 (action) or 1 (observation): the output says which tensor
    reached which input."""
    def model():
        observation = tf.keras.Input((3,), name="observation")
        action = tf.keras.Input((2,), name="action")
        q = tf.keras.layers.Lambda(lambda x: tf.reduce_sum(x, -1, keepdims=True))(
            action * 10.0 if read == "action" else observation)
        inputs = [observation, action] if order == "observation_first" else [action, observation]
        return tf.keras.Model(inputs, q)
    return model


@pytest.mark.parametrize("order", ["observation_first", "action_first"])
@pytest.mark.parametrize("read", ["observation", "action"])
def test_the_critic_routes_observation_and_action_by_input_name_in_either_order(order, read):
    critic = KerasCriticNetwork((OBS, BOX), critic_reading_one_input(order, read))
    observation, action = tf.constant([[1.0, 2.0, 3.0]]), tf.constant([[0.25, 0.5]])
    q, _ = critic((observation, action))
    assert q.numpy().tolist() == ([7.5] if read == "action" else [6.0])


def test_a_critic_over_a_dict_observation_with_a_key_named_action_is_refused():
    spec = {"action": tensor_spec.TensorSpec((2,), tf.float32), "position": tensor_spec.TensorSpec((3,), tf.float32)}
    with pytest.raises(ValueError, match="the observation has a key 'action'.*Fix: rename that observation key"):
        KerasCriticNetwork((spec, BOX), lambda: None)


def actor_model():
    inputs = tf.keras.Input((3,), name="observation")
    return tf.keras.Model(inputs, {"mean": tf.keras.layers.Dense(2)(inputs), "std": tf.keras.layers.Dense(2)(inputs)})


def deterministic_model():
    inputs = tf.keras.Input((3,), name="observation")
    return tf.keras.Model(inputs, tf.keras.layers.Dense(2)(inputs))


def test_a_tanh_squash_over_unbounded_actions_is_refused_and_the_unsquashed_actor_stays_finite():
    with pytest.raises(ValueError, match="squash=True scales tanh .* not finite .* Fix: give the env's Box finite"):
        KerasActorDistributionNetwork(OBS, UNBOUNDED, actor_model, squash=True)
    with pytest.raises(ValueError, match="squash=True scales tanh to the action's bounds.*no finite bounds"):
        KerasActorNetwork(OBS, UNBOUNDED, deterministic_model)
    distribution, _ = KerasActorDistributionNetwork(OBS, UNBOUNDED, actor_model)(tf.ones((5, 3)))
    assert np.all(np.isfinite(distribution.sample(seed=1).numpy()))
    actions, _ = KerasActorNetwork(OBS, UNBOUNDED, deterministic_model, squash=False)(tf.ones((5, 3)))
    assert np.all(np.isfinite(actions.numpy()))
    squashed, _ = KerasActorNetwork(OBS, BOX, deterministic_model)(tf.ones((5, 3)) * 100)
    assert np.all(np.abs(squashed.numpy()) <= 1.0)  # bounded: tanh scaled to [-1, 1]
