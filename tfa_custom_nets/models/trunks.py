"""Keras trunks: observation in, one flat feature vector out. Put a head on them
(`heads.q_head`, `heads.dueling_head`) to get a Q-model.

Pixels stay in their stored dtype (uint8 or bool) up to the model's input, so the
replay holds 1 byte per value instead of 4; the trunk converts and scales inside.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf


def dense_trunk(input_shape: Sequence[int], hidden_units: Sequence[int] = (256, 256),
                activation: str = "relu", name: str = "dense_trunk") -> tf.keras.Model:
    """Flatten (if needed) and a stack of Dense layers."""
    if not hidden_units:
        raise ValueError("dense_trunk: hidden_units is empty; give at least one layer, e.g. [64].")
    inputs = tf.keras.Input(shape=tuple(input_shape), name="observation")
    x = tf.keras.layers.Flatten()(inputs) if len(input_shape) > 1 else inputs
    for i, units in enumerate(hidden_units):
        x = tf.keras.layers.Dense(units, activation=activation, name=f"trunk_{i}")(x)
    return tf.keras.Model(inputs, x, name=name)


def nature_dqn_trunk(input_shape: Sequence[int] = (84, 84, 4), channels_first: bool = False,
                     name: str = "nature_dqn_trunk") -> tf.keras.Model:
    """The Nature-DQN conv stack (Mnih et al. 2015) on uint8 frames scaled to [0, 1].

    Conv 32x8x8/4, 64x4x4/2, 64x3x3/1, Dense 512. `channels_first=True` takes the
    `(4, 84, 84)` stacks of gymnasium's `FrameStackObservation` and moves the
    channels last (Keras' `Conv2D` on CPU needs channels last).
    """
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(f"nature_dqn_trunk: expected a 3-D frame stack, got shape {shape}.")
    frames, side = (shape[0], shape[1:]) if channels_first else (shape[-1], shape[:2])
    if min(side) < 36:
        raise ValueError(
            f"nature_dqn_trunk: frames of {side[0]}x{side[1]} are too small for the 8x8/4 conv stack "
            f"(input shape {shape}, channels_first={channels_first}). If the channels come first, pass "
            "channels_first=True; for small boards use minatar_trunk.")
    del frames
    inputs = tf.keras.Input(shape=shape, dtype="uint8", name="observation")
    x = tf.keras.layers.Rescaling(1.0 / 255.0)(inputs)
    if channels_first:
        x = tf.keras.layers.Permute((2, 3, 1))(x)
    x = tf.keras.layers.Conv2D(32, 8, strides=4, activation="relu")(x)
    x = tf.keras.layers.Conv2D(64, 4, strides=2, activation="relu")(x)
    x = tf.keras.layers.Conv2D(64, 3, strides=1, activation="relu")(x)
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(512, activation="relu")(x)
    return tf.keras.Model(inputs, x, name=name)


def minatar_trunk(input_shape: Sequence[int] = (10, 10, 4), dtype: str = "bool",
                  name: str = "minatar_trunk") -> tf.keras.Model:
    """The MinAtar network's trunk (Young & Tian 2019): Conv 16x3x3/1, Dense 128.

    MinAtar boards are `(10, 10, C)` bool arrays, one channel per object kind.
    """
    inputs = tf.keras.Input(shape=tuple(input_shape), dtype=dtype, name="observation")
    x = tf.keras.layers.Conv2D(16, 3, strides=1, activation="relu")(tf.cast(inputs, tf.float32))
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(128, activation="relu")(x)
    return tf.keras.Model(inputs, x, name=name)
