"""In-memory replay with no server: TF-Agents' `TFUniformReplayBuffer`, for runs that must not
open a network port (and for bit-reproducible runs: its sampling follows TensorFlow's seed).

It yields the same items as the Reverb observer: windows of `sequence_length(n_step_update)`
consecutive steps that never run past an episode's last step. The buffer stores the step
stream as it comes, so windows that would cross an episode end are drawn and dropped.
Sampling is uniform over the valid windows, with replacement.

    buffer = make_memory_buffer(agent.collect_data_spec, capacity=100_000)
    observer = MemoryObserver(buffer)                  # a PyDriver observer
    sampler = make_memory_sampler(buffer, batch_size=64, n_step_update=1)  # next(sampler): a batch
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from tf_agents.replay_buffers import tf_uniform_replay_buffer
from tf_agents.trajectories import StepType

from tfa_custom_nets.replay.items import sequence_length


def make_memory_buffer(collect_data_spec, capacity: int,
                       num_envs: int = 1) -> tf_uniform_replay_buffer.TFUniformReplayBuffer:
    """A FIFO ring of `capacity` trajectory steps held in TensorFlow variables: one stream per env,
    `ceil(capacity / num_envs)` steps each. Refused up front if the ring cannot fit in the memory this
    machine has free (TensorFlow would otherwise fail deep inside with an allocation error, or the
    process would be killed)."""
    max_length = -(-capacity // num_envs)
    step_bytes = sum(spec.dtype.size * spec.shape.num_elements() for spec in tf.nest.flatten(collect_data_spec))
    needed, free = max_length * num_envs * step_bytes, available_memory()
    if free is not None and needed > free:
        raise ValueError(
            f"replay.capacity={capacity} needs {needed / 2**30:.1f} GiB for the in-memory replay ({step_bytes} bytes "
            f"per step), but this machine has {free / 2**30:.1f} GiB of memory available. Fix: a smaller "
            f"replay.capacity (at most about {int(free * 0.8 // step_bytes)} steps here), or a machine with more "
            "memory.")
    return tf_uniform_replay_buffer.TFUniformReplayBuffer(collect_data_spec, batch_size=num_envs, max_length=max_length)


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (Linux's `MemAvailable`); None where unknown."""
    try:
        with open("/proc/meminfo") as f:
            lines = f.read().splitlines()
    except OSError:  # not Linux
        return None
    found = [int(line.split()[1]) * 1024 for line in lines if line.startswith("MemAvailable:")]
    return found[0] if found else None


class MemoryObserver:
    """A `PyDriver` observer that collects steps and writes them to the buffer at `flush()`.

    Steps wait in a Python list until `flush()` (or `num_frames()`) writes them all in one
    compiled call, so a training loop decides when the buffer changes: between updates, never
    while an update on another thread is sampling it. With `num_envs`, each trajectory holds
    one row per env (a `BatchedPyEnvironment`'s steps), written to that env's stream of a buffer
    made with the same `num_envs`.
    """

    def __init__(self, buffer: tf_uniform_replay_buffer.TFUniformReplayBuffer, num_envs: int | None = None):
        self._buffer = buffer
        self._pending: list = []
        batched = num_envs is not None
        outer = [None] + ([num_envs] if batched else [])
        spec = tf.nest.map_structure(lambda s: tf.TensorSpec(outer + s.shape.as_list(), s.dtype), buffer.data_spec)

        @tf.function(input_signature=[spec], autograph=False)
        def add_all(steps):
            def body(t):
                step = tf.nest.map_structure(lambda x: x[t] if batched else x[t][None], steps)
                with tf.control_dependencies([buffer.add_batch(step)]):
                    return t + 1

            count = tf.shape(tf.nest.flatten(steps)[0])[0]
            tf.while_loop(lambda t: t < count, body, (tf.constant(0),), parallel_iterations=1)

        self._add_all = add_all

    def __call__(self, trajectory) -> None:
        self._pending.append(trajectory)

    def flush(self) -> None:
        """Writes the collected steps, in order."""
        if self._pending:
            steps = tf.nest.map_structure(lambda *xs: np.stack(xs), *self._pending)
            self._pending = []
            self._add_all(steps)

    def num_frames(self) -> int:
        self.flush()
        return int(self._buffer.num_frames())


class MemorySampler:
    """Batches of `[B, n+1]` windows inside one episode, as `(Trajectory, BufferInfo)`: `next(sampler)`.

    Each batch is one `get_next` of the buffer (a handful of gathers, no `tf.data` pipeline: about
    0.12 ms for 64 CartPole windows in a compiled loop here, against about 1.6 ms for Reverb's
    per-item sampling; `benchmarks/results/pipeline.md`), so called inside a `tf.function` it adds
    sampling ops to the compiled update. It draws `2 * B` windows uniformly and keeps the first B that do not run
    past an episode's last step; in the rare draw with fewer than B valid windows, valid ones
    are repeated to fill the batch.

    Not prefetched: each batch is drawn when the train step asks for it, so what it holds depends
    only on the seed and the steps written so far (no race with the collection thread).

    With `counter` (a `tf.Variable` such as the agent's train step) and `seed`, the draws are stateless:
    batch i is a function of `(seed, counter)` and the buffer alone, so a run restored from a checkpoint
    draws what the uninterrupted run drew (TensorFlow's stateful sampling ops cannot be saved).
    """

    def __init__(self, buffer: tf_uniform_replay_buffer.TFUniformReplayBuffer, batch_size: int,
                 n_step_update: int = 1, counter: tf.Variable | None = None, seed: int = 0):
        self._buffer = buffer
        self._batch_size = batch_size
        self._length = sequence_length(n_step_update)
        self._counter, self._seed = counter, seed

    def __iter__(self):
        return self

    def _draw(self, count: int):
        """`count` windows of `self._length` steps, uniform over the buffer's envs and valid start ids."""
        if self._counter is None:
            return self._buffer.get_next(sample_batch_size=count, num_steps=self._length)
        # The buffer's own layout (TF-Agents' private tables): one ring of `max_length` ids per env.
        buffer, steps = self._buffer, self._length
        max_length, num_envs = buffer._max_length, buffer._batch_size
        last_id = buffer._get_last_id()
        low = tf.where(last_id >= max_length, last_id + 1 - max_length, tf.constant(0, tf.int64))  # wrapped
        high = tf.maximum(last_id + 2 - steps, low + 1)  # start ids whose window ends at or before last_id
        step = tf.cast(self._counter, tf.int64)
        seed = tf.constant(self._seed, tf.int64)
        ids = tf.random.stateless_uniform([count], tf.stack([seed, 2 * step]), minval=low, maxval=high, dtype=tf.int64)
        env = tf.random.stateless_uniform([count], tf.stack([seed, 2 * step + 1]), minval=0, maxval=num_envs,
                                          dtype=tf.int64)
        rows = (ids[:, None] + tf.range(steps, dtype=tf.int64)[None]) % max_length + env[:, None] * max_length
        probability = 1.0 / tf.cast((high - low) * num_envs, tf.float32)
        data = buffer._data_table.read(rows)
        info = tf_uniform_replay_buffer.BufferInfo(ids=buffer._id_table.read(rows),
                                                   probabilities=tf.fill([count], probability))
        return data, info

    def __next__(self):
        trajectory, info = self._draw(2 * self._batch_size)
        valid = ~tf.reduce_any(tf.equal(trajectory.step_type[:, :-1], StepType.LAST), axis=1)
        kept = tf.where(valid)[:, 0]
        count = tf.size(kept, out_type=tf.int64)
        with tf.control_dependencies([tf.debugging.assert_positive(
                count, message=f"no window of {self._length} steps inside one episode in the buffer: episodes "
                               "must be longer than n_step_update")]):
            index = tf.gather(kept, tf.range(self._batch_size, dtype=tf.int64) % count)
        return tf.nest.map_structure(lambda x: tf.gather(x, index), (trajectory, info))


def make_memory_sampler(buffer: tf_uniform_replay_buffer.TFUniformReplayBuffer, batch_size: int,
                        n_step_update: int = 1, counter: tf.Variable | None = None, seed: int = 0) -> MemorySampler:
    """Uniform batches of n-step windows from the buffer (see `MemorySampler`; `counter` and `seed` make
    them stateless)."""
    return MemorySampler(buffer, batch_size, n_step_update, counter, seed)


class MemoryReplay:
    """The in-memory replay backend: no server, no port, uniform sampling inside the compiled update.

    The training loop's replay object (the interface `replay.make_replay` documents): steps go to
    `observer`, reach the buffer at `commit()` (between updates), and are sampled by `batches`.
    The buffer's variables go into the agent's TensorFlow checkpoint (`trackables`).
    """

    prioritized = False
    priority = None  # uniform: new items carry no priority

    def __init__(self, collect_data_spec, capacity: int, batch_size: int, n_step_update: int = 1,
                 num_envs: int | None = None, counter: tf.Variable | None = None, seed: int = 0):
        self.buffer = make_memory_buffer(collect_data_spec, capacity, num_envs or 1)
        self.observer = MemoryObserver(self.buffer, num_envs)
        self.batches = make_memory_sampler(self.buffer, batch_size, n_step_update, counter, seed)

    @classmethod
    def start(cls, config, agent, num_envs: int | None = None, checkpoint_dir=None, resume_from=None) -> MemoryReplay:
        """A single-process run's in-memory replay (restored with the agent's checkpoint, so no files of its own);
        `deterministic` runs sample statelessly from (seed, update counter)."""
        exact = {"counter": agent.train_step_counter, "seed": config.seed} if config.deterministic else {}
        return cls(agent.collect_data_spec, config.replay.capacity, config.replay.batch_size,
                   config.agent.n_step_update, num_envs, **exact)

    def priority_writer(self):
        raise ValueError("the in-memory replay samples uniformly; prioritized replay needs the Reverb backend.")

    def commit(self) -> None:
        """Writes the steps collected since the last call (never while an update samples)."""
        self.observer.flush()

    def size(self) -> int:
        return self.observer.num_frames()

    def trackables(self) -> dict:
        return {"replay_buffer": self.buffer}

    def checkpoint(self) -> None:
        """The buffer is saved with the agent's checkpoint; this only commits the pending steps."""
        self.commit()

    def close(self) -> None:
        """Nothing to release: the buffer is TensorFlow variables."""
