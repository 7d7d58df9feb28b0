import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec
from tf_agents.utils import common

from tfa_custom_nets.models import dense_q_model, dueling_head, minatar_q_model, nature_q_model, q_head
from tfa_custom_nets.networks import KerasQNetwork

ACTIONS = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 2)


def test_dueling_head_combines_value_and_centred_advantage_by_hand():
    # Identity trunk: features = observation. V = f0 + 0.5; A = [f0, f1, 2 f1].
    inputs = tf.keras.Input((2,))
    model = dueling_head(tf.keras.Model(inputs, inputs), num_actions=3)
    model.get_layer("value").set_weights([np.array([[1.0], [0.0]]), np.array([0.5])])
    model.get_layer("advantage").set_weights([np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 2.0]]), np.zeros(3)])
    # f = [1, 2]: V = 1.5, A = [1, 2, 4], mean A = 7/3 -> Q = 1.5 + A - 7/3.
    q = model(np.array([[1.0, 2.0]], np.float32)).numpy()[0]
    np.testing.assert_allclose(q, [1.5 + 1 - 7 / 3, 1.5 + 2 - 7 / 3, 1.5 + 4 - 7 / 3], rtol=1e-6)
    np.testing.assert_allclose(q.mean(), 1.5, rtol=1e-6)  # the value is the mean Q


def test_a_head_on_a_model_that_already_ends_in_q_values_is_refused():
    q_model = dense_q_model(tensor_spec.TensorSpec((4,), tf.float32), ACTIONS, hidden_units=[8])
    for head in (dueling_head, q_head):
        with pytest.raises(ValueError, match=r"already ends in .*Q-values.*model.layers\[-2\].output"):
            head(q_model, num_actions=3)


@pytest.mark.parametrize("spec, builder, kwargs", [
    (tensor_spec.TensorSpec((4,), tf.float32), dense_q_model, {"hidden_units": [8], "dueling": True}),
    (tensor_spec.TensorSpec((10, 10, 4), tf.bool), minatar_q_model, {"dueling": True}),
    (tensor_spec.TensorSpec((84, 84, 4), tf.uint8), nature_q_model, {}),
    (tensor_spec.TensorSpec((4, 84, 84), tf.uint8), nature_q_model, {"channels_first": True}),
])
def test_builders_wrap_into_independent_q_networks(spec, builder, kwargs):
    net = KerasQNetwork(spec, ACTIONS, lambda: builder(spec, ACTIONS, **kwargs))
    high = 256 if spec.dtype == tf.uint8 else 2  # pixels; bool boards; floats
    observations = tf.constant(np.random.default_rng(0).integers(0, high, (2, *spec.shape)), spec.dtype)
    assert net(observations)[0].shape == (2, 3)
    target = net.copy(name="target")
    target.create_variables()
    common.check_no_shared_variables(net, target)


def test_pixels_stay_uint8_up_to_the_model():
    spec = tensor_spec.TensorSpec((84, 84, 4), tf.uint8)
    model = nature_q_model(spec, ACTIONS)
    assert model.inputs[0].dtype == tf.uint8
    frames = np.full((1, 84, 84, 4), 255, np.uint8)
    assert np.all(np.isfinite(model(frames).numpy()))


def test_channel_order_mismatch_is_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"frames of 84x84|too small.*channels_first=True"):
        nature_q_model(tensor_spec.TensorSpec((4, 84, 84), tf.uint8), ACTIONS)


def test_the_actor_critic_builders_fit_their_adapters_for_a_mixed_action():
    from tfa_custom_nets.models import dense_actor_model, dense_critic_model, dense_value_model
    from tfa_custom_nets.networks import KerasActorDistributionNetwork, KerasCriticNetwork, KerasValueNetwork

    observation_spec = tensor_spec.TensorSpec((5,), tf.float32)
    turn = tensor_spec.BoundedTensorSpec((2,), tf.float32, -1.0, 1.0)
    action_spec = {"turn": turn, "grip": tensor_spec.BoundedTensorSpec((), tf.int64, 0, 2)}
    model = dense_actor_model(observation_spec, action_spec, hidden_units=[8])
    assert sorted(model.output_names) == ["grip_logits", "turn_mean", "turn_std"]
    actor = KerasActorDistributionNetwork(observation_spec, action_spec, model)
    distributions, _ = actor(tf.zeros((3, 5)), step_type=tf.zeros((3,), tf.int32))
    sample = tf.nest.map_structure(lambda d: d.sample(), distributions)
    assert sample["turn"].shape == (3, 2) and sample["grip"].shape == (3,)
    no_std = dense_actor_model(observation_spec, action_spec, hidden_units=[8], std_heads=False)
    KerasActorDistributionNetwork(observation_spec, action_spec, no_std, std="state_independent")
    q_values, _ = KerasCriticNetwork((observation_spec, turn), dense_critic_model(observation_spec, turn, [8]))(
        (tf.zeros((4, 5)), tf.zeros((4, 2))))
    values, _ = KerasValueNetwork(observation_spec, dense_value_model(observation_spec, hidden_units=[8]))(
        tf.zeros((4, 5)))
    assert q_values.shape == (4,) and values.shape == (4,)
