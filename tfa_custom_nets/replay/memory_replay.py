"""In-memory replay with no server: TF-Agents' `TFUniformReplayBuffer`, for runs that must not
open a network port (and for bit-reproducible runs: its sampling follows TensorFlow's seed).

It yields the same items as the Reverb observer: windows of `sequence_length(n_step_update)`
consecutive steps that never run past an episode's last step. The buffer stores the step
stream as it comes, so windows that would cross an episode end are drawn and dropped.
Sampling is uniform over the valid windows, with replacement.

    buffer = make_memory_buffer(agent.collect_data_spec, capacity=100_000)
    observer = MemoryObserver(buffer)                  # a PyDriver observer
    dataset = make_memory_dataset(buffer, batch_size=64, n_step_update=1)
"""

from __future__ import annotations

import tensorflow as tf
from tf_agents.replay_buffers import tf_uniform_replay_buffer
from tf_agents.trajectories import StepType

from tfa_custom_nets.replay.reverb_replay import sequence_length


def make_memory_buffer(collect_data_spec, capacity: int,
                       num_envs: int = 1) -> tf_uniform_replay_buffer.TFUniformReplayBuffer:
    """A FIFO ring of `capacity` trajectory steps held in TensorFlow variables: one stream per env,
    `ceil(capacity / num_envs)` steps each."""
    return tf_uniform_replay_buffer.TFUniformReplayBuffer(collect_data_spec, batch_size=num_envs,
                                                          max_length=-(-capacity // num_envs))


class MemoryObserver:
    """A `PyDriver` observer that appends every step to the buffer (one compiled call per step).

    With `num_envs`, each trajectory holds one row per env (a `BatchedPyEnvironment`'s steps),
    written to that env's stream of a buffer made with the same `num_envs`.
    """

    def __init__(self, buffer: tf_uniform_replay_buffer.TFUniformReplayBuffer, num_envs: int | None = None):
        self._buffer = buffer
        batched = num_envs is not None
        spec = buffer.data_spec
        if batched:
            spec = tf.nest.map_structure(lambda s: tf.TensorSpec([num_envs] + s.shape.as_list(), s.dtype), spec)

        @tf.function(input_signature=[spec], autograph=False)
        def add(step):
            buffer.add_batch(step if batched else tf.nest.map_structure(lambda x: x[None], step))

        self._add = add

    def __call__(self, trajectory) -> None:
        self._add(tf.nest.map_structure(tf.convert_to_tensor, trajectory))

    def flush(self) -> None:
        """Steps are in the buffer as soon as the call returns: nothing to wait for."""

    def num_frames(self) -> int:
        return int(self._buffer.num_frames())


def make_memory_dataset(buffer: tf_uniform_replay_buffer.TFUniformReplayBuffer, batch_size: int,
                        n_step_update: int = 1) -> tf.data.Dataset:
    """Batches of `[B, n+1]` windows inside one episode, as `(Trajectory, BufferInfo)`.

    Not prefetched: each batch is drawn when the train step asks for it, so what it holds depends
    only on the seed and the steps written so far (no race with the collection thread).
    """
    length = sequence_length(n_step_update)

    def valid_windows(trajectory, info):
        # Draw B windows at a time, keep those inside one episode; unbatch + batch refills to B.
        valid = ~tf.reduce_any(tf.equal(trajectory.step_type[:, :-1], StepType.LAST), axis=1)
        return tf.data.Dataset.from_tensor_slices(tf.nest.map_structure(lambda x: tf.boolean_mask(x, valid),
                                                                        (trajectory, info)))

    dataset = buffer.as_dataset(sample_batch_size=batch_size, num_steps=length, single_deterministic_pass=False)
    return dataset.flat_map(valid_windows).batch(batch_size, drop_remainder=True)
