"""Actor and critic models for vector observations, named in configs as
`tfa_custom_nets.models:dense_actor_model`, `:dense_critic_model` or `:dense_value_model`.

    dense_actor_model: observation -> shared dense trunk -> one head group per action component
        Box component c      -> "c_mean" [B, n], "c_std" [B, n]   (KerasActorDistributionNetwork)
        Discrete component c -> "c_logits" [B, n]
    dense_critic_model: (observation, action) -> concatenated -> dense layers -> Q [B, 1]  (KerasCriticNetwork)
    dense_value_model: observation -> dense layers -> V [B, 1]                          (KerasValueNetwork)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from tfa_custom_nets.models.trunks import dense_trunk
from tfa_custom_nets.networks.keras_actor_distribution_network import _component_names


def dense_actor_model(observation_spec, action_spec, hidden_units: Sequence[int] = (256, 256),
                      activation: str = "relu", std_heads: bool = True, name: str = "dense_actor") -> tf.keras.Model:
    """A shared dense trunk with a `(mean, std)` head pair per Box component and a logits head per
    Discrete component of a (dict or tuple) action spec.

    Args:
      observation_spec: a `TensorSpec`/`ArraySpec` of the observation.
      action_spec: a float Box spec `(n,)`, a scalar int spec, or a dict/tuple of them.
      hidden_units: the trunk's layer widths.
      activation: the trunk's activation.
      std_heads: False leaves out the std heads (the network's `std="state_independent"`).
      name: the model's name.
    """
    trunk = dense_trunk(observation_spec.shape, hidden_units, activation)
    outputs = {}
    for prefix, spec in _component_names(action_spec, name):  # the head names the network reads
        if spec.dtype.is_integer:
            outputs[f"{prefix}logits"] = tf.keras.layers.Dense(int(np.max(spec.maximum)) + 1,
                                                               name=f"{prefix}logits")(trunk.output)
            continue
        width = int(np.prod(spec.shape))
        outputs[f"{prefix}mean"] = tf.keras.layers.Dense(width, name=f"{prefix}mean")(trunk.output)
        if std_heads:
            outputs[f"{prefix}std"] = tf.keras.layers.Dense(width, name=f"{prefix}std")(trunk.output)
    return tf.keras.Model(trunk.input, outputs, name=name)


def dense_critic_model(observation_spec, action_spec, hidden_units: Sequence[int] = (256, 256),
                       activation: str = "relu", name: str = "dense_critic") -> tf.keras.Model:
    """Q(s, a): inputs `observation` and `action`, concatenated, dense layers, one output."""
    if not hidden_units:
        raise ValueError("dense_critic_model: hidden_units is empty; give at least one layer, e.g. [256, 256].")
    observation = tf.keras.Input(tuple(observation_spec.shape), name="observation")
    action = tf.keras.Input(tuple(action_spec.shape), name="action")
    flat = [tf.keras.layers.Flatten()(x) if len(x.shape) > 2 else x for x in (observation, action)]
    x = tf.keras.layers.Concatenate()(flat)
    for units in hidden_units:
        x = tf.keras.layers.Dense(units, activation=activation)(x)
    return tf.keras.Model([observation, action], tf.keras.layers.Dense(1, name="q_value")(x), name=name)


def dense_value_model(observation_spec, action_spec=None, hidden_units: Sequence[int] = (64, 64),
                      activation: str = "tanh", name: str = "dense_value") -> tf.keras.Model:
    """V(s): a dense trunk and one output (`action_spec` is accepted and unused, as every builder takes it)."""
    del action_spec
    trunk = dense_trunk(observation_spec.shape, hidden_units, activation)
    return tf.keras.Model(trunk.input, tf.keras.layers.Dense(1, name="value")(trunk.output), name=name)
