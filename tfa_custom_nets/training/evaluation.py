"""Greedy evaluation: N episodes stepped in lockstep, one policy call per step; and a run's
evaluations with their bookkeeping (the first step at the threshold, the best policy so far).

Running the evaluation episodes side by side makes one batched policy call serve
every live episode, so a 20-episode CartPole evaluation costs about as many policy
calls as one episode.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import tensorflow as tf
from tf_agents.environments import py_environment
from tf_agents.policies import policy_saver, py_policy
from tf_agents.specs import array_spec
from tf_agents.trajectories import policy_step
from tf_agents.utils import nest_utils

from tfa_custom_nets.training.builders import make_env
from tfa_custom_nets.training.compiled_policy import CompiledPyPolicy
from tfa_custom_nets.training.metrics import MetricsLog, plot_learning_curve, rss_mb


class UniformRandomPyPolicy(py_policy.PyPolicy):
    """Uniform random actions for a batch of time steps: the baseline `evaluate` compares against.

    TF-Agents' `RandomPyPolicy` cannot sample a batch of `(D,)` actions whose bounds
    differ per dimension (a MultiDiscrete); this samples one action per row.
    """

    def __init__(self, time_step_spec, action_spec, seed: int = 0):
        super().__init__(time_step_spec, action_spec)
        self._rng = np.random.RandomState(seed)

    def _action(self, time_step, policy_state):
        rows = len(time_step.step_type)
        actions = [array_spec.sample_spec_nest(self.action_spec, self._rng) for _ in range(rows)]
        return policy_step.PolicyStep(nest_utils.stack_nested_arrays(actions), policy_state, ())


EVAL_MAX_EPISODE_STEPS = 10_000
"""An evaluation episode of an env with no time limit of its own is cut after this many steps (and a line says
so), so a greedy policy that never ends an episode cannot hang a run; `env.make_kwargs={'max_episode_steps': N}`
sets the env's own limit instead."""


def episode_step_cap(env) -> tuple[int, bool]:
    """`(cap, own)`: the env's own time limit (gymnasium's `TimeLimit`, as `gymnasium.make` adds from the
    registration or `max_episode_steps`), else `EVAL_MAX_EPISODE_STEPS` with `own` False."""
    gym_env = getattr(env, "gym_env", None)
    while isinstance(gym_env, gym.Wrapper):
        if isinstance(gym_env, gym.wrappers.TimeLimit):
            return int(gym_env._max_episode_steps), True
        gym_env = gym_env.env
    return EVAL_MAX_EPISODE_STEPS, False


def evaluate(policy: py_policy.PyPolicy, envs: list[py_environment.PyEnvironment],
             seed: int, max_steps: int | None = None) -> np.ndarray:
    """Returns of one episode per env; env i starts from seed `seed + i`.

    Args:
      policy: a py policy taking batched time steps (`CompiledPyPolicy(..., batched=True)`).
      envs: one environment per episode, reused across evaluations.
      seed: the first episode's seed.
      max_steps: steps after which an episode is cut (its return counts up to there, and a line on stderr
        says how many were cut); None: the env's own time limit, else `EVAL_MAX_EPISODE_STEPS`.
    """
    if max_steps is None:
        max_steps, own = episode_step_cap(envs[0])
        max_steps = max_steps + 1 if own else max_steps  # the env's own limit ends its episodes first
    time_steps = []
    for i, env in enumerate(envs):
        env.seed(seed + i)
        time_steps.append(env.reset())
    returns = np.zeros(len(envs), dtype=np.float64)
    live = list(range(len(envs)))
    for _ in range(max_steps):
        if not live:
            break
        batch = nest_utils.stack_nested_arrays([time_steps[i] for i in live])
        actions = nest_utils.unstack_nested_arrays(policy.action(batch).action)
        still_live = []
        for row, i in enumerate(live):
            time_steps[i] = envs[i].step(actions[row])
            returns[i] += float(time_steps[i].reward)
            if not time_steps[i].is_last():
                still_live.append(i)
        live = still_live
    if live:
        print(f"tfa-nets: evaluation cut {len(live)} of {len(envs)} episodes at {max_steps} steps: the env ended "
              "none of them by then (it has no time limit of its own); their returns count up to the cut. Set "
              "env.make_kwargs={'max_episode_steps': N} to give it one.", file=sys.stderr, flush=True)
    return returns


def next_mark(steps: int, interval: int) -> int:
    """The first multiple of `interval` after `steps`: when the next evaluation or checkpoint is due."""
    return (steps // interval + 1) * interval


def save_policy(policy, path: Path) -> None:
    """A greedy policy as a SavedModel (`tf.saved_model.load` and `tfa-nets eval` load it)."""
    with warnings.catch_warnings():  # TF warns that tfp's spec type is "experimental"; it loads fine
        warnings.filterwarnings("ignore", message="Encoding a StructuredValue with type tfp")
        policy_saver.PolicySaver(policy, batch_size=None).save(str(path))


def record_evaluation(state, mean: float, env_steps: int, train_seconds: float, threshold: float | None) -> bool:
    """Books an evaluation's mean into the run's `LoopState`: the first one at or above `threshold` sets
    `solved_at_step`/`solved_at_seconds`, and one at least as good as the best so far becomes the best (ties go
    to the later evaluation: the same score after more training). Returns whether it is the new best."""
    if state.solved_at_step is None and threshold is not None and mean >= threshold:
        state.solved_at_step, state.solved_at_seconds = env_steps, round(train_seconds, 3)
    if state.best_eval_mean is None or mean >= state.best_eval_mean:
        state.best_eval_mean, state.best_eval_step = mean, env_steps
        return True
    return False


class Evaluations:
    """A run's greedy evaluations: each writes a metrics row (CSV and TensorBoard), records the first
    evaluation at the env's threshold and keeps the weights of the best one (ties go to the later).

    The bookkeeping lives in the run's `LoopState` (`state`), so a checkpoint saves it; the best
    weights are variables (`best_weights`) that go into the same checkpoint. `save_policies` writes
    `policy/` (the final weights) and `best_policy/`.
    """

    def __init__(self, config, agent, run_dir: Path, state, epsilon, threshold: float | None, returns=None,
                 resumed: bool = False):
        self.config, self.agent, self.run_dir, self.state = config, agent, run_dir, state
        self.epsilon, self.threshold, self.returns = epsilon, threshold, returns
        self.envs = [make_env(config.env) for _ in range(config.eval_episodes)]
        self.policy = config.kind.greedy_policy(agent)  # what the run evaluates and saves
        self.greedy = CompiledPyPolicy(self.policy, batched=True)
        self.best_weights = [tf.Variable(v, trainable=False) for v in self.policy.variables()]
        self.last_step = None  # env steps of this process's latest evaluation
        # Rows from the next evaluation on were written after the checkpoint being resumed: redone now.
        self.log = MetricsLog(run_dir, resume_before=state.next_eval if resumed else None)

    def due(self, env_steps: int) -> bool:
        return env_steps >= self.state.next_eval

    def run(self, env_steps: int, updates: int, train_seconds: float, loss: float) -> np.ndarray:
        """Evaluates now, writes the metrics row and keeps the weights if this is the best so far."""
        state = self.state
        scores = evaluate(self.greedy, self.envs, self.config.eval_seed(state.eval_index))
        state.eval_index += 1
        mean = float(scores.mean())
        if record_evaluation(state, mean, env_steps, train_seconds, self.threshold):
            for best, variable in zip(self.best_weights, self.policy.variables()):
                best.assign(variable)
        self.log.add({"env_steps": env_steps, "updates": updates, "train_seconds": round(train_seconds, 3),
                      "eval_mean": mean, "eval_std": float(scores.std()),
                      "eval_min": float(scores.min()), "eval_max": float(scores.max()),
                      "train_return": None if self.returns is None else self.returns.mean(),
                      "epsilon": float(self.epsilon()), "loss": loss,
                      "env_steps_per_s": env_steps / train_seconds if train_seconds else None,
                      "rss_mb": round(rss_mb(), 1)})
        self.last_step, self.last_scores = env_steps, scores
        state.next_eval = next_mark(env_steps, self.config.eval_interval)
        return scores

    def save_policies(self) -> None:
        """`policy/` with the current weights, then `best_policy/` with the best evaluation's."""
        save_policy(self.policy, self.run_dir / "policy")
        variables = self.policy.variables()
        final = [v.numpy() for v in variables]
        for variable, best in zip(variables, self.best_weights):
            variable.assign(best)
        try:
            save_policy(self.policy, self.run_dir / "best_policy")
        finally:
            for variable, value in zip(variables, final):
                variable.assign(value)

    def summary(self, updates: int, train_seconds: float, wall_seconds: float) -> dict:
        state, scores = self.state, self.last_scores
        return {
            "env_id": self.config.env.id,
            "seed": self.config.seed,
            "eval_mean": float(scores.mean()),
            "eval_std": float(scores.std()),
            "eval_episodes": int(scores.size),
            "best_eval_mean": state.best_eval_mean,
            "best_eval_step": state.best_eval_step,
            "threshold": self.threshold,
            "solved_at_step": state.solved_at_step,
            "solved_at_seconds": state.solved_at_seconds,
            "env_steps": self.last_step,
            "updates": updates,
            "train_seconds": round(train_seconds, 3),
            "wall_seconds": round(wall_seconds, 3),
            "env_steps_per_s": round(self.last_step / train_seconds, 1),
            "updates_per_s": round(updates / train_seconds, 1),
            "run_dir": str(self.run_dir),
        }

    def plot(self) -> None:
        config = self.config
        plot_learning_curve(self.log.rows, self.threshold, f"{config.name} ({config.env.id}, seed {config.seed})",
                            self.run_dir / "learning_curve.png")

    def close(self) -> None:
        self.log.close()
        for env in self.envs:
            env.close()

