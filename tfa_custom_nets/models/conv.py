"""Q-models for pixels, named in configs as `tfa_custom_nets.models:nature_q_model` or `:minatar_q_model`."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfa_custom_nets.models.heads import dueling_head, q_head
from tfa_custom_nets.models.trunks import minatar_trunk, nature_dqn_trunk


def nature_q_model(observation_spec, action_spec, channels_first: bool = False, dueling: bool = False,
                   name: str = "nature_q") -> tf.keras.Model:
    """Nature-DQN trunk on uint8 frame stacks, with a Q or dueling head."""
    trunk = nature_dqn_trunk(observation_spec.shape, channels_first=channels_first)
    num_actions = int(np.max(action_spec.maximum)) + 1
    return (dueling_head if dueling else q_head)(trunk, num_actions, name=name)


def minatar_q_model(observation_spec, action_spec, dueling: bool = False, name: str = "minatar_q") -> tf.keras.Model:
    """MinAtar trunk on `(10, 10, C)` boards, with a Q or dueling head."""
    trunk = minatar_trunk(observation_spec.shape, dtype=tf.as_dtype(observation_spec.dtype).name)
    num_actions = int(np.max(action_spec.maximum)) + 1
    return (dueling_head if dueling else q_head)(trunk, num_actions, name=name)
