"""The loop core every training role shares (Dopamine's runner phases): report cadence,
checkpoint and resume, evaluation bookkeeping and the finish sequence.

    core = LoopCore(config, agent, run_dir, replay, state, env_steps_var, epsilon, threshold, resumed)
    while ...:                                  # the role produces env steps and updates ...
        state.env_steps, state.updates = ...
        core.report_if_due(updater.wait)        # ... the core checkpoints and evaluates when due
    summary = core.finish(updater.wait)

`train_eval` (collection and updates in one process) and the distributed learner (updates from a
replay server) differ only in how `state.env_steps` and `state.updates` move.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from tfa_custom_nets.training.checkpoints import (
    LoopState,
    RunCheckpoint,
    capture_rng_states,
    restore_rng_states,
)
from tfa_custom_nets.training.config import TrainConfig
from tfa_custom_nets.training.evaluation import Evaluations, next_mark
from tfa_custom_nets.training.run_dir import record_resume, write_json


def env_threshold(config: TrainConfig, env) -> float | None:
    """The config's threshold, else the env's registered `reward_threshold`."""
    if config.env.threshold is not None:
        return config.env.threshold
    spec = env.gym_env.unwrapped.spec
    return None if spec is None else spec.reward_threshold


def finite_loss(loss_tensor, when: str, run_dir: Path) -> float:
    """The loss as a float, or a FloatingPointError that says where the last good checkpoint is."""
    loss = float(loss_tensor)
    if not math.isfinite(loss):
        raise FloatingPointError(f"loss is {loss} {when}; the last good checkpoint is in {run_dir / 'checkpoints'}. "
                                 "Lower agent.learning_rate or set agent.gradient_clipping.")
    return loss


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during training, after the loop saved what it could: the message says what and how to continue."""

    def __init__(self, message: str, run_dir: Path):
        super().__init__(message)
        self.run_dir = str(run_dir)


class LoopCore:
    """Checkpoints, evaluations and timing of one training run (see the module docstring).

    Args:
      state: the run's `LoopState`: fresh (`LoopState.start(config)`) or read from the checkpoint
        being resumed (`resumed=True`; the checkpoint is restored here).
      epsilon: the collect policy's exploration rate, a function (logged with each evaluation).
      returns: the training episodes' `EpisodeReturns`, where this process sees them.
      rng: `(train_envs, collect_policy)` whose random streams a checkpoint keeps, where the role has them.
      train_envs: the envs this process collects from, where it has them: their invalid actions are counted.
      time_step: a function giving the collector's latest time step, kept by a checkpoint at an episode's end
        (`config.exact_resume`); a resumed run finds it in `restored_time_step`.
    """

    def __init__(self, config: TrainConfig, agent, run_dir: Path, replay, state: LoopState, env_steps_var,
                 epsilon, threshold: float | None, resumed: bool = False, returns=None, rng=None, train_envs=None,
                 time_step=None):
        self.config, self.run_dir, self.replay, self.state = config, run_dir, replay, state
        self.returns, self.rng, self.train_envs, self._time_step = returns, rng, train_envs, time_step
        self.restored_time_step = None
        self._invalid_before = dict(state.invalid_actions or {})
        self.evaluations = Evaluations(config, agent, run_dir, state, epsilon, threshold, returns, resumed)
        self.checkpoint = RunCheckpoint(run_dir, agent, env_steps_var, replay, self.evaluations.best_weights,
                                        checkpointed=config.kind.checkpointed(agent))
        if resumed:
            record_resume(run_dir, state, replay.size())
            if returns is not None:
                returns.recent.extend(state.recent_returns)
            if state.priority is not None:
                replay.priority = state.priority
            if rng is not None:
                self.restored_time_step = restore_rng_states(state.rng, *rng)
        self.loss = float("nan") if state.loss is None else state.loss
        self.start = self._tick = time.perf_counter()

    def _count_training_time(self) -> None:
        now = time.perf_counter()
        self.state.train_seconds += now - self._tick
        self._tick = now

    def invalid_actions(self) -> dict | None:
        """Actions the env's mask ruled out, taken by the collect policies and by the greedy evaluations of the
        whole run (earlier processes included); None for envs that publish no mask."""
        counts = {"greedy_eval": [env.invalid_actions for env in self.evaluations.envs]}
        if self.train_envs is not None:
            counts["collect"] = [env.invalid_actions for env in self.train_envs]
        if all(count is None for values in counts.values() for count in values) and not self._invalid_before:
            return None
        return {key: self._invalid_before.get(key, 0) + sum(count or 0 for count in values)
                for key, values in counts.items()}

    def save(self) -> None:
        state = self.state
        state.invalid_actions = self.invalid_actions()
        if self.returns is not None:
            state.recent_returns = list(self.returns.recent)
        state.loss = None if math.isnan(self.loss) else self.loss
        time_step = None if self._time_step is None else self._time_step()
        self.checkpoint.save(state, None if self.rng is None else capture_rng_states(*self.rng, time_step=time_step))

    def report_if_due(self, wait_for_updates, done: bool = False, may_checkpoint: bool = True):
        """At a checkpoint or evaluation mark (or `done`): waits for the pending updates
        (`wait_for_updates() -> loss tensor or None`), checkpoints, evaluates; returns the scores
        of an evaluation made now, else None. Checkpoints count as training time, evaluations do not.
        `may_checkpoint` False holds a due checkpoint back (until an episode ends, for `exact_resume`)."""
        state, evaluations = self.state, self.evaluations
        checkpoint_due = state.env_steps >= state.next_checkpoint and may_checkpoint
        if not (done or checkpoint_due or evaluations.due(state.env_steps)):
            return None
        loss_tensor = wait_for_updates()
        if loss_tensor is not None:
            self.loss = finite_loss(loss_tensor, f"at env step {state.env_steps}", self.run_dir)
        self._count_training_time()
        if checkpoint_due:
            state.next_checkpoint = next_mark(state.env_steps, self.config.checkpoint_interval)
            self.save()
            self._count_training_time()
        scores = None
        if (done or evaluations.due(state.env_steps)) and evaluations.last_step != state.env_steps:
            scores = evaluations.run(state.env_steps, state.updates, state.train_seconds, self.loss)
        self._tick = time.perf_counter()
        return scores

    def interrupted(self, wait_for_updates) -> Interrupted:
        """After Ctrl-C: a checkpoint at this step (once the pending updates are in), or, before the
        warm-up ended, none (nothing worth resuming); the exception that says which."""
        state = self.state
        if state.env_steps < self.config.warmup_steps and not state.resumes:
            return Interrupted(f"interrupted during the warm-up, before any checkpoint: start it again with the same "
                               f"--run-dir {self.run_dir} (it is taken over).", self.run_dir)
        wait_for_updates()
        self._count_training_time()
        self.save()
        return Interrupted(f"interrupted at env step {state.env_steps}: checkpoint saved in {self.run_dir}. Continue "
                           f"with: tfa-nets train {self.config.name} --resume {self.run_dir}", self.run_dir)

    def finish(self, wait_for_updates, **extra) -> dict:
        """The last evaluation (if not made at this step), a checkpoint, `policy/` and `best_policy/`,
        `summary.json` (with `extra`) and the learning curve; returns the summary."""
        self.report_if_due(wait_for_updates, done=True)
        self.save()
        self.evaluations.save_policies()
        state = self.state
        summary = {**self.evaluations.summary(state.updates, state.train_seconds, time.perf_counter() - self.start),
                   "invalid_actions": self.invalid_actions(), **extra}
        write_json(self.run_dir / "summary.json", summary)
        self.evaluations.plot()
        return summary

    def close(self) -> None:
        self.evaluations.close()
