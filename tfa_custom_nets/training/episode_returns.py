"""Training-episode returns, recorded by a `PyDriver` observer."""

from __future__ import annotations

import collections

from tf_agents.trajectories import StepType


class EpisodeReturns:
    """Observer that sums rewards per episode and keeps the last `window` returns.

    TF-Agents' `py_metrics.AverageReturnMetric` does the same but re-batches every
    trajectory (about 0.25 ms a step on a 2-core machine, as much as the Reverb
    insert); this reads the two step types directly.
    """

    def __init__(self, window: int = 10):
        self.recent: collections.deque = collections.deque(maxlen=window)
        self.episodes = 0
        self._current = 0.0

    def __call__(self, trajectory) -> None:
        if trajectory.step_type == StepType.LAST:  # LAST -> FIRST boundary: no reward
            return
        self._current += float(trajectory.reward)
        if trajectory.next_step_type == StepType.LAST:
            self.recent.append(self._current)
            self.episodes += 1
            self._current = 0.0

    def mean(self) -> float | None:
        return sum(self.recent) / len(self.recent) if self.recent else None
