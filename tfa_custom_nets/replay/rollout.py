"""On-policy "replay" for PPO: the latest rollout only, each env's steps in order.

    replay = RolloutReplay(agent.collect_data_spec, rollout_steps=2048, num_envs=8)
    driver observers: [replay.observer]      # steps wait until commit(), as the in-memory replay's do
    experience, _ = next(replay.batches)     # the whole rollout [num_envs, T], read inside the compiled update
    replay.batches.consumed()                # after the update: the rollout is emptied for the next one

The loop's replay interface (`replay.make_replay`) with nothing to sample: `batches` hands the update every step
collected since the last update (TF-Agents' `gather_all`), LAST -> FIRST boundaries included (PPO masks them out
of its loss), and the update empties the buffer. A checkpoint is written after an update, when the buffer is
empty, so it holds nothing of the replay.
"""

from __future__ import annotations

from tfa_custom_nets.replay.memory_replay import MemoryObserver, make_memory_buffer


class RolloutBatches:
    """`next()`: the whole rollout as `(experience, ())`; `consumed()`: the op that empties it."""

    def __init__(self, buffer):
        self._buffer = buffer

    def __iter__(self):
        return self

    def __next__(self):
        return self._buffer.gather_all(), ()

    def consumed(self):
        return self._buffer.clear()


class RolloutReplay:
    """See the module docstring. `rollout_steps`: env steps per rollout over all envs."""

    prioritized = False
    priority = None

    def __init__(self, collect_data_spec, rollout_steps: int, num_envs: int | None = None):
        envs = num_envs or 1
        per_env = -(-rollout_steps // envs)
        # Room for every step and a boundary after each (an episode can end at every step), so nothing wraps.
        self.buffer = make_memory_buffer(collect_data_spec, capacity=(2 * per_env + 2) * envs, num_envs=envs)
        self.observer = MemoryObserver(self.buffer, num_envs)
        self.batches = RolloutBatches(self.buffer)

    @classmethod
    def start(cls, config, agent, num_envs: int | None = None, checkpoint_dir=None, resume_from=None) -> RolloutReplay:
        """An on-policy run's rollout of `update_every` env steps."""
        return cls(agent.collect_data_spec, config.update_every, num_envs)

    def priority_writer(self):
        raise ValueError("an on-policy rollout has no priorities.")

    def commit(self) -> None:
        self.observer.flush()

    def size(self) -> int:
        return self.observer.num_frames()

    def trackables(self) -> dict:
        return {}

    def checkpoint(self) -> None:
        """Nothing to save: checkpoints come after an update, which empties the rollout."""
        self.commit()

    def close(self) -> None:
        """Nothing to release."""
