"""Q heads that sit on any Keras trunk: a plain linear head, a dueling head, and branch heads.

    trunk features ──┬── Dense(1)            V(s)
                     └── Dense(num_actions)  A(s, a)
    Q(s, a) = V(s) + A(s, a) - mean_a' A(s, a')        (Wang et al. 2016, arXiv:1511.06581)

Released tf-agents 0.19 has no dueling network; `dueling_head` makes any trunk one, and
the result is a plain functional model that `KerasQNetwork` wraps like any other.

`branch_heads` gives one Q-head per action dimension (BDQ, Tavakoli et al. 2018):

    trunk features ──┬── Dense(h) ── Dense(1)    V(s)                 (dueling only)
                     ├── Dense(h) ── Dense(n_1)  A_1(s, .)  -> Q_1 = V + A_1 - mean A_1
                     └── ...         Dense(n_D)  A_D(s, .)  -> Q_D
"""

from __future__ import annotations

import tensorflow as tf


class CentreAdvantage(tf.keras.layers.Layer):
    """A(s, a) - mean_a' A(s, a'): makes V and A identifiable."""

    def call(self, advantage):
        return advantage - tf.reduce_mean(advantage, axis=-1, keepdims=True)


def _check_trunk(trunk: tf.keras.Model, num_actions: int, head: str) -> None:
    if not isinstance(trunk, tf.keras.Model) or not trunk.inputs:
        raise ValueError(f"{head}: expected a functional or Sequential Keras trunk, got {type(trunk).__name__}.")
    if len(trunk.outputs) != 1 or len(trunk.output_shape) != 2:
        raise ValueError(f"{head}: the trunk must end in one flat feature tensor [B, F]; its output shape is "
                         f"{trunk.output_shape}. Fix: end it with tf.keras.layers.Flatten() or a Dense layer.")
    last = trunk.layers[-1]
    linear = isinstance(last, tf.keras.layers.Dense) and last.get_config()["activation"] == "linear"
    if linear and trunk.output_shape[-1] == num_actions:
        raise ValueError(
            f"{head}: the model already ends in a linear layer of {num_actions} units, i.e. in Q-values. A head "
            "goes on the trunk, not on Q-values. Fix: pass the model without its last layer, e.g. "
            "tf.keras.Model(model.input, model.layers[-2].output).")


def q_head(trunk: tf.keras.Model, num_actions: int, name: str = "q_model") -> tf.keras.Model:
    """`trunk` followed by a linear layer of `num_actions` Q-values."""
    _check_trunk(trunk, num_actions, "q_head")
    q_values = tf.keras.layers.Dense(num_actions, name="q_values")(trunk.output)
    return tf.keras.Model(trunk.inputs, q_values, name=name)


def dueling_head(trunk: tf.keras.Model, num_actions: int, name: str = "dueling_q_model") -> tf.keras.Model:
    """`trunk` followed by value and advantage streams combined into Q-values."""
    _check_trunk(trunk, num_actions, "dueling_head")
    features = trunk.output
    value = tf.keras.layers.Dense(1, name="value")(features)
    advantage = tf.keras.layers.Dense(num_actions, name="advantage")(features)
    centred = CentreAdvantage(name="centre_advantage")(advantage)
    q_values = tf.keras.layers.Add(name="q_values")([value, centred])
    return tf.keras.Model(trunk.inputs, q_values, name=name)


def branch_heads(trunk: tf.keras.Model, branch_sizes, head_units: int = 128, dueling: bool = True,
                 name: str = "branching_q_model") -> tf.keras.Model:
    """`trunk` followed by one Q-head per action dimension: a model with D outputs `[B, n_d]`.

    Args:
      trunk: a functional or Sequential model ending in flat features `[B, F]`.
      branch_sizes: actions per dimension, `[n_1, ..., n_D]`.
      head_units: width of each head's hidden layer (0: linear heads on the trunk).
      dueling: a shared state value plus per-branch mean-subtracted advantages.
      name: the model's name.
    """
    sizes = [int(n) for n in branch_sizes]
    if not sizes or min(sizes) < 1:
        raise ValueError(f"branch_heads: branch_sizes must be positive ints, got {branch_sizes!r}.")
    _check_trunk(trunk, -1, "branch_heads")
    features = trunk.output

    def hidden(label):
        if head_units <= 0:
            return features
        return tf.keras.layers.Dense(head_units, activation="relu", name=f"{label}_hidden")(features)

    outputs = []
    value = tf.keras.layers.Dense(1, name="value")(hidden("value")) if dueling else None
    for d, n in enumerate(sizes):
        head = tf.keras.layers.Dense(n, name=f"branch_{d}_{'advantage' if dueling else 'q'}")(hidden(f"branch_{d}"))
        if dueling:
            head = tf.keras.layers.Add(name=f"branch_{d}_q")([value, CentreAdvantage(name=f"branch_{d}_centre")(head)])
        outputs.append(head)
    return tf.keras.Model(trunk.inputs, outputs, name=name)
