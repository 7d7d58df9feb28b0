"""Q-models for vector observations, named in configs as `tfa_custom_nets.models:dense_q_model` or
`:branching_q_model`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from tfa_custom_nets.models.heads import branch_heads, dueling_head, q_head
from tfa_custom_nets.models.trunks import dense_trunk


def dense_q_model(observation_spec, action_spec, hidden_units: Sequence[int] = (256, 256),
                  activation: str = "relu", dueling: bool = False, name: str = "dense_q") -> tf.keras.Model:
    """A functional model: input `observation`, a dense trunk, a Q (or dueling) head.

    Args:
      observation_spec: a `TensorSpec`/`ArraySpec` of the observation.
      action_spec: scalar int spec; the model outputs `maximum + 1` Q-values.
      hidden_units: the trunk's layer widths; at least one layer.
      activation: the trunk's activation.
      dueling: a dueling head (value + mean-subtracted advantage) instead of a linear one.
      name: the model's name.
    """
    trunk = dense_trunk(observation_spec.shape, hidden_units, activation)
    num_actions = int(np.max(action_spec.maximum)) + 1
    return (dueling_head if dueling else q_head)(trunk, num_actions, name=name)


def branching_q_model(observation_spec, action_spec, hidden_units: Sequence[int] = (512, 256),
                      head_units: int = 128, dueling: bool = True, activation: str = "relu",
                      name: str = "branching_q") -> tf.keras.Model:
    """A dense shared trunk and one Q-head per action dimension (the BDQ paper's shape by default).

    Args:
      observation_spec: a `TensorSpec`/`ArraySpec` of the observation.
      action_spec: int spec of shape `(D,)`; branch d gets `maximum[d] + 1` outputs.
      hidden_units: the shared trunk's layer widths.
      head_units: each head's hidden width (0: linear heads).
      dueling: shared state value + per-branch mean-subtracted advantages.
      activation: the trunk's activation.
      name: the model's name.
    """
    if len(action_spec.shape) != 1:
        raise ValueError(f"branching_q_model: expected a (D,) action spec, got shape {tuple(action_spec.shape)}; "
                         "for one discrete action use dense_q_model.")
    trunk = dense_trunk(observation_spec.shape, hidden_units, activation)
    sizes = (np.broadcast_to(action_spec.maximum, action_spec.shape) + 1).tolist()
    return branch_heads(trunk, sizes, head_units=head_units, dueling=dueling, name=name)
