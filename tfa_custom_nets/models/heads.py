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
(run batched: one wide Dense for every hidden layer, one `BranchDense` for every output layer)
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


class BranchDense(tf.keras.layers.Layer):
    """A separate linear layer per group, run as one batched matmul: `[B, G, h] -> [B, G, units]`.

    Each group's `[h, units]` kernel is initialised like a `Dense(units)` layer's on `h` inputs.
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)

    def build(self, input_shape):
        groups, width = int(input_shape[-2]), int(input_shape[-1])
        limit = (6.0 / (width + self.units)) ** 0.5  # Glorot uniform with one group's fans

        def per_group(shape, dtype=None):
            return tf.random.uniform(shape, -limit, limit, dtype=dtype)

        self.kernel = self.add_weight("kernel", (groups, width, self.units), initializer=per_group)
        self.bias = self.add_weight("bias", (groups, self.units), initializer="zeros")

    def call(self, inputs):
        return tf.einsum("bgh,ghu->bgu", inputs, self.kernel) + self.bias

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class BranchQ(tf.keras.layers.Layer):
    """`[B, G, widest]` group outputs -> D tensors `[B, n_d]`; with `dueling` the last group's first
    entry is the shared V(s) and branch d's Q is `V + A_d - mean A_d`."""

    def __init__(self, branch_sizes, dueling: bool, **kwargs):
        super().__init__(**kwargs)
        self.branch_sizes, self.dueling = [int(n) for n in branch_sizes], bool(dueling)

    def call(self, outputs):
        heads = [outputs[:, d, :n] for d, n in enumerate(self.branch_sizes)]
        if not self.dueling:
            return heads
        value = outputs[:, -1, :1]
        return [value + a - tf.reduce_mean(a, axis=-1, keepdims=True) for a in heads]

    def get_config(self):
        return {**super().get_config(), "branch_sizes": self.branch_sizes, "dueling": self.dueling}


def branch_heads(trunk: tf.keras.Model, branch_sizes, head_units: int = 128, dueling: bool = True,
                 name: str = "branching_q_model") -> tf.keras.Model:
    """`trunk` followed by one Q-head per action dimension: a model with D outputs `[B, n_d]`.

    The heads are independent (no weight is shared between branches) but run batched: every
    head's hidden layer is one slice of a single `Dense(G * head_units)` on the trunk features
    (G = D branches, plus the value stream when dueling), and every head's output layer one group
    of a `BranchDense`. That is the same function as G separate layer pairs with a few large
    matmuls instead of many small ones.

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
    groups, widest = len(sizes) + int(dueling), max(sizes)
    if head_units > 0:
        hidden = tf.keras.layers.Dense(groups * head_units, activation="relu", name="heads_hidden")(trunk.output)
        hidden = tf.keras.layers.Reshape((groups, head_units), name="heads_hidden_split")(hidden)
        grouped = BranchDense(widest, name="heads_out")(hidden)
    else:
        grouped = tf.keras.layers.Dense(groups * widest, name="heads_out")(trunk.output)
        grouped = tf.keras.layers.Reshape((groups, widest), name="heads_out_split")(grouped)
    outputs = BranchQ(sizes, dueling, name="branch_q")(grouped)
    return tf.keras.Model(trunk.inputs, outputs, name=name)
