"""What a replay item is and how a sampled batch is weighted: no Reverb here.

DqnAgent trains on transitions `(s_t, a_t, r_t, s_{t+n})`, stored as items of
`sequence_length = n_step_update + 1` consecutive trajectory steps. Every backend takes that
length from `sequence_length(n_step_update)`, so the writer and the sampler cannot disagree.

Prioritized replay (Schaul et al. 2016, arXiv:1511.05952) samples item i with probability
`p_i^alpha / sum_j p_j^alpha`, writes `|TD error| + epsilon` back as the priorities of the items
an update trained on (`td_priorities`) and weights each sample's loss by `importance_weights`.
"""

from __future__ import annotations

import tensorflow as tf


def sequence_length(n_step_update: int = 1) -> int:
    """Trajectory steps per replay item: the transition's first step plus n more."""
    return n_step_update + 1


def importance_weights(probability: tf.Tensor, table_size: tf.Tensor, beta) -> tf.Tensor:
    """`(N * P(i)) ** -beta / max_batch`, the correction for sampling i with probability P(i)."""
    scaled = tf.cast(table_size, tf.float64) * tf.cast(probability, tf.float64)
    weights = tf.pow(scaled, -tf.cast(beta, tf.float64))
    return tf.cast(weights / tf.reduce_max(weights), tf.float32)


def td_priorities(td_error: tf.Tensor, epsilon: float = 1e-6) -> tf.Tensor:
    """`|TD error| + epsilon` per sample; a `[B, D]` branching error is averaged over branches."""
    magnitude = tf.abs(tf.cast(td_error, tf.float64))
    if magnitude.shape.rank == 2:
        magnitude = tf.reduce_mean(magnitude, axis=1)
    return magnitude + epsilon
