"""The acting side of a role: a `PyDriver` stepping the training env(s) with the collect policy,
writing to the replay and counting steps and episode returns.

    collector = Collector(config, agent, env, num_envs, replay.observer, epsilon, seed, steps_per_call=16)
    env_steps = collector.warm_up(config.replay.learning_starts)   # uniform random actions
    env_steps += collector.collect()                               # at least `steps_per_call` env steps
"""

from __future__ import annotations

import numpy as np
from tf_agents.drivers import py_driver
from tf_agents.policies import random_py_policy

from tfa_custom_nets.agents import EzGreedyPyPolicy
from tfa_custom_nets.agents.masked_random import MaskedRandomPyPolicy
from tfa_custom_nets.training.builders import make_collect_policy, mask_splitter
from tfa_custom_nets.training.config import TrainConfig
from tfa_custom_nets.training.episode_returns import EpisodeReturns


class StepCounter:
    """A `PyDriver` observer counting env steps (boundary LAST -> FIRST transitions are resets, not steps)."""

    def __init__(self):
        self.steps = 0

    def __call__(self, trajectory) -> None:
        self.steps += int(np.sum(~trajectory.is_boundary()))


class Collector:
    """Steps `env` (one env, or a batch of `num_envs`) for a role.

    An ez-greedy policy reads the exploration rate from `epsilon` once per `collect()` call, not at
    every step (it is a TensorFlow op, and moves only with the env steps); the agent's own
    epsilon-greedy policy computes it inside its graph. Eager ops here run beside the update
    thread: reading epsilon every call cost the pipeline about 10% (`benchmarks/compare_commits.py`).
    """

    def __init__(self, config: TrainConfig, agent, env, num_envs: int | None, observer, epsilon, seed: int,
                 steps_per_call: int):
        self.env, self.num_envs, self.seed = env, num_envs, seed
        self._splitter = mask_splitter(config)
        self._epsilon_fn, self._epsilon = epsilon, 1.0
        self.returns, self.counter = EpisodeReturns(window=10), StepCounter()
        self._observers = [observer, self.returns, self.counter]
        self.policy = make_collect_policy(config, agent, num_envs, seed, lambda: self._epsilon)
        self._reads_epsilon = isinstance(self.policy, EzGreedyPyPolicy)
        batch = num_envs or 1
        # Whole batches of steps: at least `steps_per_call` env steps per call.
        self._driver = py_driver.PyDriver(env, self.policy, self._observers,
                                          max_steps=-(-steps_per_call // batch) * batch)
        self.time_step = None
        self.total = 0  # env steps this collector has taken

    def warm_up(self, steps: int) -> int:
        """Uniform random (valid) actions for `steps` env steps (a batch may pass it); returns the steps taken."""
        if self._splitter is not None:
            policy = MaskedRandomPyPolicy(self.env.time_step_spec(), self.env.action_spec(), self._splitter, self.seed)
        else:
            policy = random_py_policy.RandomPyPolicy(self.env.time_step_spec(), self.env.action_spec(), seed=self.seed,
                                                     outer_dims=() if self.num_envs is None else (self.num_envs,))
        return self._run(py_driver.PyDriver(self.env, policy, self._observers, max_steps=steps))

    def collect(self) -> int:
        """One call of the collect policy's driver; returns the env steps taken."""
        if self._reads_epsilon:
            self._epsilon = float(self._epsilon_fn())
        return self._run(self._driver)

    def _run(self, driver) -> int:
        if self.time_step is None:
            self.time_step = self.env.reset()
        self.counter.steps = 0
        self.time_step, _ = driver.run(self.time_step)
        self.total += self.counter.steps
        return self.counter.steps
