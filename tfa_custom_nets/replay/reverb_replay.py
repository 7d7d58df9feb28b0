"""The Reverb replay backend: one table on a Reverb server, as the training loop's replay object.

    replay = ReverbReplay.start_local(config, agent.collect_data_spec, num_envs=16,
                                      checkpoint_dir=run_dir / "replay")   # single process
    replay = ReverbReplay(config, agent.collect_data_spec, "host:8000", num_envs=16)  # an actor or the learner

The same object serves every role: an actor only writes (`observer`), the learner only samples
(`batches`, `priority_writer`) and asks for checkpoints, a single-process run does all three on
its own in-process server. Parts a role does not use are never built.

Used when a run needs Reverb: prioritized replay, `replay.backend='reverb'`, or the distributed
roles. The server's gRPC port listens on all interfaces with no authentication.
"""

from __future__ import annotations

from pathlib import Path

import reverb

from tfa_custom_nets.replay import reverb_tables


def make_table(config, collect_data_spec, min_size: int, samples_per_insert: float | None) -> reverb.Table:
    """The config's replay table (uniform or prioritized) with the given limiter settings."""
    replay_config = config.replay
    kwargs = {"min_size": min_size, "n_step_update": config.agent.n_step_update,
              "samples_per_insert": samples_per_insert, "name": table_name(config)}
    if replay_config.prioritized:
        return reverb_tables.make_prioritized_table(collect_data_spec, replay_config.capacity,
                                                    priority_exponent=replay_config.priority_exponent, **kwargs)
    return reverb_tables.make_uniform_table(collect_data_spec, replay_config.capacity, **kwargs)


def table_name(config) -> str:
    return reverb_tables.PRIORITIZED_TABLE if config.replay.prioritized else reverb_tables.TABLE


class ReverbReplay:
    """A replay table on the Reverb server at `address` (see the module docstring)."""

    def __init__(self, config, data_spec, address: str, num_envs: int | None = None,
                 server: reverb.Server | None = None):
        self.address, self.table, self._data_spec = address, table_name(config), data_spec
        self.prioritized = config.replay.prioritized
        self._batch_size, self._n_step, self._num_envs = (config.replay.batch_size, config.agent.n_step_update,
                                                          num_envs)
        self._server = server
        self.client = reverb.Client(address)
        self._observer = self._batches = None
        self._priority = 1.0  # new items' priority: the largest seen so far

    @classmethod
    def start(cls, config, agent, num_envs: int | None = None, checkpoint_dir=None,
              resume_from: str | None = None) -> ReverbReplay:
        """A single-process run's replay (`start_local` for the agent's data spec)."""
        return cls.start_local(config, agent.collect_data_spec, num_envs, checkpoint_dir, resume_from)

    @classmethod
    def start_local(cls, config, collect_data_spec, num_envs: int | None = None,
                    checkpoint_dir: str | Path | None = None, resume_from: str | None = None) -> ReverbReplay:
        """A single-process run's replay: its own server on a free port, loading the newest checkpoint
        in `checkpoint_dir` if there is one. The loop itself warms up and holds the update ratio, so the
        table samples once a batch is in and has a ratio limiter only where the config asks for one.
        `resume_from`: the replay checkpoint a resumed agent checkpoint names (a FileNotFoundError if
        neither it nor a newer one is in `checkpoint_dir`)."""
        if resume_from is not None:
            reverb_tables.replay_checkpoint_to_resume(str(checkpoint_dir), resume_from)
        min_size, samples_per_insert = config.reverb_table_limits(distributed=False)
        table = make_table(config, collect_data_spec, min_size, samples_per_insert)
        server = reverb_tables.start_server([table], checkpoint_dir=None if checkpoint_dir is None
                                            else str(checkpoint_dir))
        return cls(config, collect_data_spec, f"localhost:{server.port}", num_envs, server)

    @property
    def observer(self):
        """The `PyDriver` observer writing this role's env steps as items."""
        if self._observer is None:
            self._observer = reverb_tables.make_observer(self.client, self._data_spec, self._n_step, self.table,
                                                         self._num_envs)
            self._observer.priority = self._priority
        return self._observer

    @property
    def batches(self):
        """An iterator of `(Trajectory [B, n+1, ...], SampleInfo)` batches, read inside the compiled update."""
        if self._batches is None:
            self._batches = iter(reverb_tables.make_dataset(self.address, self._data_spec, self._batch_size,
                                                            self.table))
        return self._batches

    def priority_writer(self):
        """`write(info, priorities) -> op`, setting sampled items' priorities (call outside `tf.function`)."""
        return reverb_tables.make_priority_writer(self.address, self.table)

    @property
    def priority(self) -> float:
        return self._priority

    @priority.setter
    def priority(self, value: float) -> None:
        self._priority = value
        if self._observer is not None:
            self._observer.priority = value

    def commit(self) -> None:
        """Items stream to the server as they are written: nothing waits here."""

    def flush(self) -> None:
        """Blocks until every item this role wrote is in the table."""
        if self._observer is not None:
            self._observer.flush()

    def size(self) -> int:
        """Items in the table (after every written item has arrived)."""
        self.flush()
        return int(self.client.server_info()[self.table].current_size)

    def inserted(self) -> int:
        """Items inserted since the server started."""
        return int(self.client.server_info()[self.table].rate_limiter_info.insert_stats.completed)

    def trackables(self) -> dict:
        return {}  # Reverb checkpoints itself; the agent's checkpoint names the replay checkpoint

    def checkpoint(self) -> str:
        """Writes every item and priority to the server's checkpoint folder; returns the checkpoint's name."""
        self.flush()
        return reverb_tables.checkpoint_replay(self.client)

    def close(self) -> None:
        if self._observer is not None:
            self._observer.close()
        if self._server is not None:
            self._server.stop()
