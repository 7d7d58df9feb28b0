"""Keras model builders: trunks, heads, and whole Q-, actor and critic models for configs.

A builder named in `NetworkConfig.model` is called as
`builder(observation_spec, action_spec, **kwargs)` and returns a `tf.keras.Model`.
"""

from tfa_custom_nets.models.actor_critic import dense_actor_model, dense_critic_model, dense_value_model
from tfa_custom_nets.models.conv import minatar_q_model, nature_q_model
from tfa_custom_nets.models.dense import branching_q_model, dense_q_model
from tfa_custom_nets.models.heads import branch_heads, dueling_head, q_head
from tfa_custom_nets.models.trunks import dense_trunk, minatar_trunk, nature_dqn_trunk

__all__ = ["branch_heads", "branching_q_model", "dense_actor_model", "dense_critic_model", "dense_q_model",
           "dense_trunk", "dense_value_model", "dueling_head", "minatar_q_model", "minatar_trunk", "nature_dqn_trunk",
           "nature_q_model", "q_head"]
