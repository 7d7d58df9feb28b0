import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

from tfa_custom_nets.networks import KerasCategoricalQNetwork

OBS = tensor_spec.TensorSpec((4,), tf.float32)
ACTIONS = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 2)
ATOMS = 11


def flat_logits():
    inputs = tf.keras.Input((4,), name="observation")
    return tf.keras.Model(inputs, tf.keras.layers.Dense(3 * ATOMS)(tf.keras.layers.Dense(16, "relu")(inputs)))


def test_wrong_output_size_names_the_expected_shapes():
    with pytest.raises(ValueError, match=r"shape \[B, 33\], expected \[B, 153\] or \[B, 3, 51\].*num_atoms=11"):
        KerasCategoricalQNetwork(OBS, ACTIONS, flat_logits(), num_atoms=51)
    with pytest.raises(ValueError, match=r"num_atoms must be an int >= 2"):
        KerasCategoricalQNetwork(OBS, ACTIONS, flat_logits(), num_atoms=1)
