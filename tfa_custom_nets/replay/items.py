"""What a replay item is and how a sampled batch is weighted: no Reverb here.

DqnAgent trains on transitions `(s_t, a_t, r_t, s_{t+n})`, stored as items of
`sequence_length = n_step_update + 1` consecutive trajectory steps. Every backend takes that
length from `sequence_length(n_step_update)`, so the writer and the sampler cannot disagree; Reverb
tables store each step packed into one byte column (`ItemLayout`).

Prioritized replay (Schaul et al. 2016, arXiv:1511.05952) samples item i with probability
`p_i^alpha / sum_j p_j^alpha`, writes `|TD error| + epsilon` back as the priorities of the items
an update trained on (`td_priorities`) and weights each sample's loss by `importance_weights`.
"""

from __future__ import annotations

import numpy as np
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


class ItemLayout:
    """Replay items as one `uint8` column: each trajectory step's fields, flattened, byte for byte.

    A Reverb sample costs per column (a batch of 64 CartPole items reads in 1.5 ms as the trajectory's
    six columns, 0.6 ms as one: benchmarks/results/reverb_sampling.md), so the Reverb tables hold each
    step as the bytes of its fields side by side, and a sampled batch is cut back into the trajectory
    inside the graph (`unpack`: slices and bitcasts, exact for every dtype). Writer and reader run on
    machines of the same byte order (every x86 and ARM machine TensorFlow supports).

        layout = ItemLayout(agent.collect_data_spec, n_step_update=1)
        layout.signature                  # the table's: uint8 [n + 1, layout.width]
        row = layout.pack(columns)        # the flattened fields of a step -> uint8 [width]
        trajectory = layout.unpack(batch) # uint8 [..., n + 1, width] -> the nest, [..., n + 1, *shape]
    """

    def __init__(self, data_spec, n_step_update: int = 1):
        self.data_spec = data_spec
        self.length = sequence_length(n_step_update)
        self._specs = tf.nest.flatten(data_spec)
        self._sizes = [int(np.prod(spec.shape, dtype=np.int64)) * spec.dtype.size for spec in self._specs]
        self.width = sum(self._sizes)
        self.signature = tf.TensorSpec([self.length, self.width], tf.uint8)

    def pack(self, columns, batched: bool = False) -> np.ndarray:
        """A step's flattened fields (`tf.nest.flatten` order) as `uint8 [width]`, or as `[N, width]` for a
        batch of N envs' steps (`batched`)."""
        rows = len(columns[0]) if batched and self._specs else 1
        parts = [np.ascontiguousarray(column, spec.dtype.as_numpy_dtype).reshape(rows, -1).view(np.uint8)
                 for column, spec in zip(columns, self._specs)]
        packed = np.concatenate(parts, axis=1) if parts else np.zeros((rows, 0), np.uint8)
        if packed.shape[1] != self.width:
            raise ValueError(f"a step packs to {packed.shape[1]} bytes but the data spec's fields take {self.width}: "
                             "the trajectory does not match the replay's data spec (its shapes or dtypes differ).")
        return packed if batched else packed[0]

    def unpack(self, packed: tf.Tensor):
        """`uint8 [..., n + 1, width]` items back into the data spec's nest, `[..., n + 1, *shape]` each."""
        outer = packed.shape[:-1].as_list()
        if None in outer:
            outer = tf.unstack(tf.shape(packed)[:-1])
        fields, start = [], 0
        for spec, size in zip(self._specs, self._sizes):
            piece = packed[..., start:start + size]
            start += size
            if spec.dtype == tf.bool:
                value = tf.cast(piece, tf.bool)
            elif spec.dtype.size == 1:
                value = tf.bitcast(piece, spec.dtype)
            else:
                value = tf.bitcast(tf.reshape(piece, [*outer, size // spec.dtype.size, spec.dtype.size]), spec.dtype)
            fields.append(tf.reshape(value, [*outer, *spec.shape]))
        return tf.nest.pack_sequence_as(self.data_spec, fields)
