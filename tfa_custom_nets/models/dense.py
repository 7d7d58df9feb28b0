"""Dense Keras Q-models for vector observations."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf


def dense_q_model(observation_spec, action_spec, hidden_units: Sequence[int] = (256, 256),
                  activation: str = "relu", name: str = "dense_q") -> tf.keras.Model:
    """A functional model: one input named `observation`, a dense trunk, a Q layer.

    Args:
      observation_spec: a `TensorSpec`/`ArraySpec` of the (flat) observation.
      action_spec: scalar int spec; the model outputs `maximum + 1` Q-values.
      hidden_units: the trunk's layer widths; at least one layer.
      activation: the trunk's activation.
      name: the model's name.
    """
    if not hidden_units:
        raise ValueError("dense_q_model: hidden_units is empty; give at least one layer, e.g. [64].")
    num_actions = int(np.max(action_spec.maximum)) + 1
    inputs = tf.keras.Input(shape=tuple(observation_spec.shape), name="observation")
    x = tf.keras.layers.Flatten()(inputs) if len(observation_spec.shape) > 1 else inputs
    for i, units in enumerate(hidden_units):
        x = tf.keras.layers.Dense(units, activation=activation, name=f"trunk_{i}")(x)
    q_values = tf.keras.layers.Dense(num_actions, name="q_values")(x)
    return tf.keras.Model(inputs, q_values, name=name)
