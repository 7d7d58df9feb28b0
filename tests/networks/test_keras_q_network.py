import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

from tests.networks.test_contract import (
    ACTIONS,
    DICT_OBS,
    OBS,
    Subclassed,
    dict_input,
    functional_shared_layer,
    sequential,
)
from tfa_custom_nets.networks import KerasQNetwork


def test_wrapper_does_not_use_the_model_it_was_given():
    model = functional_shared_layer()
    net = KerasQNetwork(OBS, ACTIONS, model)
    net.create_variables()
    given = {id(v) for v in model.variables}
    assert not given & {id(v) for v in net.variables}


# ---- bad input: each fails at construction with a message that says how to fix it ----

def two_heads():
    inputs = tf.keras.Input((4,))
    x = tf.keras.layers.Dense(8)(inputs)
    return tf.keras.Model(inputs, [tf.keras.layers.Dense(3)(x), tf.keras.layers.Dense(2)(x)])


@pytest.mark.parametrize("spec, action_spec, model, message", [
    (OBS, ACTIONS, two_heads(), r"2 outputs; expected one tensor \[B, 3\].*BranchingQNetwork"),
    (OBS, tensor_spec.BoundedTensorSpec((), tf.int64, 1, 3), sequential(), r"expected action minimum 0, saw 1"),
    (OBS, tensor_spec.BoundedTensorSpec((2,), tf.int64, 0, 2), sequential(),
     r"expected a scalar action spec.*saw shape \[2\].*BranchingQNetwork"),
    (OBS, tensor_spec.BoundedTensorSpec((), tf.float32, -1.0, 1.0), sequential(),
     r"expected an integer \(Discrete\) action spec.*DiscretizeAction\(env, bins\).*envs.DiscretizeActions"),
    (tensor_spec.TensorSpec((5,), tf.float32), ACTIONS, sequential(),
     r"observation 'observation' has shape \[5\].*expects \[4\]"),
    (OBS, tensor_spec.BoundedTensorSpec((), tf.int64, 0, 1), sequential(),
     r"output has shape \[B, 3\], expected \[B, 2\].*Dense\(2\)"),
    ({"image": DICT_OBS["image"]}, ACTIONS, dict_input(),
     r"observation has keys \['image'\] but the model's inputs are named \['image', 'vector'\]"),
    (tensor_spec.TensorSpec((6, 6, 1), tf.uint8), ACTIONS,
     tf.keras.Sequential([tf.keras.Input((6, 6, 1)), tf.keras.layers.Flatten(), tf.keras.layers.Dense(3)]),
     r"'observation' is uint8 but the model input is float32.*Rescaling"),
    (OBS, ACTIONS, Subclassed(), r"subclassed Keras model \(Subclassed\).*model=lambda: Subclassed"),
    (OBS, ACTIONS, lambda: "not a model", r"builder returned str"),
])
def test_bad_input_is_refused_with_a_fix(spec, action_spec, model, message):
    with pytest.raises(ValueError, match=message):
        KerasQNetwork(spec, action_spec, model)


def test_builder_that_returns_one_shared_model_is_refused_at_construction():
    """Before DqnAgent would find the target sharing the online weights, the network does, and says why."""
    shared = sequential()
    with pytest.raises(ValueError, match=r"uses variables that a fresh copy of it does not get its own of.*"
                                         r"create every layer inside the model \(or inside the builder"):
        KerasQNetwork(OBS, ACTIONS, lambda: shared)
