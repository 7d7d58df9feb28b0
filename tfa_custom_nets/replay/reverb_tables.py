"""Reverb replay for DQN: table, server, observer and dataset from one item layout
(`items.ItemLayout`: the data spec's fields of n+1 steps as one byte column), so the table, the
observer that writes items and the dataset that reads them cannot disagree.

Prioritized replay: the table samples item i with probability `p_i^alpha / sum_j p_j^alpha`
(`priority_exponent` alpha); after each update the learner writes `|TD error| + epsilon` back
(`items.td_priorities`, `reverb.TFClient.update_priorities`).

A Reverb server's gRPC port listens on all interfaces with no authentication: anyone who
reaches it can read and write the replay. Only runs that need Reverb start one.
"""

from __future__ import annotations

import socket
from pathlib import Path

import reverb
import tensorflow as tf
from tf_agents.trajectories import StepType

from tfa_custom_nets.replay.items import ItemLayout

TABLE = "uniform"
PRIORITIZED_TABLE = "prioritized"
SAMPLER_THREADS = 2  # Reverb sampling threads per dataset: measured faster than 1, 4 or auto (benchmarks/)


def _fifo_table(name: str, collect_data_spec, capacity: int, min_size: int, n_step_update: int,
                sampler, samples_per_insert: float | None) -> reverb.Table:
    return reverb.Table(
        name,
        max_size=capacity,
        sampler=sampler,
        remover=reverb.selectors.Fifo(),
        rate_limiter=make_rate_limiter(min_size, samples_per_insert),
        signature=ItemLayout(collect_data_spec, n_step_update).signature,
    )


def make_uniform_table(collect_data_spec, capacity: int, min_size: int, n_step_update: int = 1,
                       samples_per_insert: float | None = None, name: str = TABLE) -> reverb.Table:
    """A FIFO table of `capacity` items sampled uniformly once `min_size` are in."""
    return _fifo_table(name, collect_data_spec, capacity, min_size, n_step_update, reverb.selectors.Uniform(),
                       samples_per_insert)


def make_rate_limiter(min_size: int, samples_per_insert: float | None = None,
                      error_buffer: float | None = None) -> reverb.rate_limiters.RateLimiter:
    """Sampling waits for `min_size` items; with `samples_per_insert`, Reverb also holds the
    samples-to-inserts ratio within `error_buffer` samples of it (default: one warm-up's worth,
    `samples_per_insert * min_size`), blocking whichever side runs ahead."""
    if samples_per_insert is None:
        return reverb.rate_limiters.MinSize(min_size)
    if samples_per_insert <= 0:
        raise ValueError(f"samples_per_insert must be > 0 (or None for no ratio), got {samples_per_insert}.")
    buffer = samples_per_insert * max(min_size, 1) if error_buffer is None else error_buffer
    return reverb.rate_limiters.SampleToInsertRatio(samples_per_insert, min_size, max(buffer, samples_per_insert))


def make_prioritized_table(collect_data_spec, capacity: int, min_size: int, n_step_update: int = 1,
                           priority_exponent: float = 0.6, samples_per_insert: float | None = None,
                           name: str = PRIORITIZED_TABLE) -> reverb.Table:
    """A FIFO table of `capacity` items sampled in proportion to `priority ** priority_exponent`."""
    if not 0.0 <= priority_exponent <= 1.0:
        raise ValueError(f"priority_exponent (alpha) must be in [0, 1], got {priority_exponent}; 0 is uniform.")
    return _fifo_table(name, collect_data_spec, capacity, min_size, n_step_update,
                       reverb.selectors.Prioritized(priority_exponent), samples_per_insert)


def start_server(tables: list[reverb.Table], port: int | None = None,
                 checkpoint_dir: str | None = None) -> reverb.Server:
    """An in-process Reverb server (a free port unless `port` is given).

    With `checkpoint_dir`, `checkpoint_replay` writes the tables' items and priorities there and
    a new server started on the same folder loads the newest complete checkpoint in it.
    """
    if port is not None:
        check_port_free(port)
    checkpointer = None if checkpoint_dir is None else reverb.checkpointers.DefaultCheckpointer(str(checkpoint_dir))
    return reverb.Server(tables, port=port, checkpointer=checkpointer)


def check_port_free(port: int) -> None:
    """A ValueError unless `port` is a TCP port number this machine has free. gRPC binds with SO_REUSEPORT, so a
    second server on a busy port would start and split the clients with the first; Reverb also takes a number
    past 65535 modulo 65536 and reports the number it was given."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"--port must be a TCP port from 1 to 65535, got {port!r}; leave it out for a free one.")
    with socket.socket(socket.AF_INET6 if socket.has_ipv6 else socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("", port))
        except OSError as error:
            raise ValueError(f"--port {port} is in use on this machine ({error.strerror}): another replay server "
                             "or program listens there. Pick another port, or leave --port out for a free one."
                             ) from None


def make_priority_writer(address: str, table_name: str):
    """`write(info, priorities) -> op`: sets the sampled items' priorities from inside the compiled update
    (build it outside `tf.function`: the TF client is a resource)."""
    tf_client = reverb.TFClient(address)
    return lambda info, priorities: tf_client.update_priorities(table_name, info.key, priorities)


def checkpoint_replay(client: reverb.Client) -> str:
    """Writes a Reverb checkpoint (every table, items and priorities) and returns its folder name.

    Reverb writes the new checkpoint to a new folder, marks it complete last, and only then deletes
    the older ones (measured: the folder holds one checkpoint after each call). A kill during the
    write leaves the previous checkpoint loadable.
    """
    return Path(client.checkpoint()).name


def replay_checkpoint_to_resume(checkpoint_dir: str, name: str) -> str:
    """The Reverb checkpoint a resumed server loads (the newest in the folder): `name`, the one the
    agent's checkpoint names, or, after a kill between the two checkpoints, the newer one that replaced
    it (the replay then holds the few items collected in between). A ValueError if none is there."""
    folder = Path(checkpoint_dir)
    present = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    if not present:
        raise ValueError(f"cannot resume: the replay checkpoint {folder / name} named by the agent's checkpoint is "
                         "missing, and no other is there. Restore the run's replay/ folder, or resume with "
                         "--empty-replay (random steps refill the replay first).")
    return name if name in present else present[-1]


class TransitionObserver:
    """A `PyDriver` observer writing every window of n+1 consecutive steps of an episode.

    It writes exactly the items of TF-Agents' `ReverbAddTrajectoryObserver` with
    `stride_length=1` and no end-of-episode padding: a window never crosses an
    episode boundary, and each episode is ended on the writer (which flushes it).
    Each step goes in as one packed byte column (`ItemLayout.pack`), not the nested trajectory's
    columns: cheaper to write and several times cheaper to sample.
    """

    def __init__(self, client: reverb.Client, data_spec, n_step_update: int = 1, table_name: str = TABLE,
                 priority: float = 1.0):
        self.layout = ItemLayout(data_spec, n_step_update)
        self._length = self.layout.length
        self._table = table_name
        self.priority = priority  # new items' priority (prioritized replay: the largest seen so far)
        self._writer = client.trajectory_writer(num_keep_alive_refs=self._length, validate_items=False)
        self._steps = 0

    def __call__(self, trajectory) -> None:
        self.append(self.layout.pack(tf.nest.flatten(trajectory)), trajectory.step_type == StepType.LAST)

    def append(self, packed, is_last: bool) -> None:
        """One trajectory step, packed (`ItemLayout.pack`); `is_last`: the step is an episode's LAST."""
        self._writer.append(packed)
        self._steps += 1
        if self._steps >= self._length:
            self._writer.create_item(self._table, self.priority, self._writer.history[-self._length:])
        if is_last:  # the LAST -> FIRST boundary ends the episode
            self._writer.end_episode()
            self._steps = 0

    def flush(self) -> None:
        """Blocks until every written item is in the table."""
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


class BatchedTransitionObserver:
    """`TransitionObserver` for a batch of envs: row i of each batched trajectory goes to env i's
    own writer, so an item's n+1 steps always come from one env's episode."""

    def __init__(self, client: reverb.Client, data_spec, num_envs: int, n_step_update: int = 1,
                 table_name: str = TABLE, priority: float = 1.0):
        self._observers = [TransitionObserver(client, data_spec, n_step_update, table_name, priority)
                           for _ in range(num_envs)]
        self._layout = self._observers[0].layout

    @property
    def priority(self) -> float:
        return self._observers[0].priority

    @priority.setter
    def priority(self, value: float) -> None:
        for observer in self._observers:
            observer.priority = value

    def __call__(self, trajectory) -> None:
        if len(trajectory.step_type) != len(self._observers):
            raise ValueError(f"expected a batch of {len(self._observers)} envs' steps, got "
                             f"{len(trajectory.step_type)}; build the observer with num_envs equal to the env's "
                             "batch size.")
        rows = self._layout.pack(tf.nest.flatten(trajectory), batched=True)  # every env's step at once
        is_last = trajectory.step_type == StepType.LAST
        for observer, row, last in zip(self._observers, rows, is_last):
            observer.append(row, last)

    def flush(self) -> None:
        for observer in self._observers:
            observer.flush()

    def close(self) -> None:
        for observer in self._observers:
            observer.close()


def make_observer(client: reverb.Client, data_spec, n_step_update: int = 1, table_name: str = TABLE,
                  num_envs: int | None = None) -> TransitionObserver | BatchedTransitionObserver:
    """A `PyDriver` observer writing every overlapping window of n+1 steps of each episode (steps of
    `data_spec`, the agent's `collect_data_spec`): for one unbatched env (`num_envs=None`) or a batch of
    `num_envs` (a `BatchedPyEnvironment`)."""
    if num_envs is None:
        return TransitionObserver(client, data_spec, n_step_update, table_name)
    return BatchedTransitionObserver(client, data_spec, num_envs, n_step_update, table_name)


def make_dataset(server_address: str, data_spec, batch_size: int, table_name: str = TABLE, prefetch: int = 4,
                 rate_limiter_timeout_ms: int = -1) -> tf.data.Dataset:
    """Batches of sampled items, as `(Trajectory [B, n+1, ...], SampleInfo)` (`data_spec`: the agent's
    `collect_data_spec`, as the table was made with).

    Reads the table directly with `reverb.TrajectoryDataset` (several samples in flight per request,
    two sampling threads) and cuts each packed batch back into the trajectory on the dataset's own
    threads, after batching: per-sample work stays inside Reverb and `batch`. `rate_limiter_timeout_ms`
    (default: wait forever) ends the dataset when no item can be sampled for that long.
    """
    layout = ItemLayout(data_spec)  # unpacking reads any number of steps
    dataset = reverb.TrajectoryDataset.from_table_signature(
        server_address, table_name, max_in_flight_samples_per_worker=4 * batch_size,
        num_workers_per_iterator=SAMPLER_THREADS, rate_limiter_timeout_ms=rate_limiter_timeout_ms)
    dataset = dataset.batch(batch_size, drop_remainder=True)
    return dataset.map(lambda sample: (layout.unpack(sample.data), sample.info)).prefetch(prefetch)
