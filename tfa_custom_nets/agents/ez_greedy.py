"""Temporally-extended epsilon-greedy exploration (ez-greedy; Dabney, Ostrovski and Barreto, ICLR 2021).

At each step where no random action is being held, with probability epsilon a uniformly random
action is drawn and then repeated for `n` steps, `n` drawn from a zeta distribution truncated to
`1..max_repeat` (`P(n) ∝ n ** -mu`; `mu=0` makes every length equally likely); otherwise the greedy
policy acts. With `max_repeat=1` this is plain epsilon-greedy. Held actions reach states that
single random actions almost never chain together, such as MountainCar's flag, which needs
tens of steps of pushing one way and then the other.

With an `observation_and_action_constraint_splitter` (masked envs) the random action is drawn
among the valid actions, and a held action that the current state's mask rules out is let go:
the step is decided afresh (random with probability epsilon, else greedy).

    from tfa_custom_nets.agents.ez_greedy import EzGreedyPyPolicy
    from tfa_custom_nets.training.compiled_policy import CompiledPyPolicy

    collect_policy = EzGreedyPyPolicy(CompiledPyPolicy(agent.policy), epsilon=lambda: 0.1,
                                      mu=1.0, max_repeat=50, seed=0)
    py_driver.PyDriver(env, collect_policy, observers, max_steps=1000).run(env.reset())
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from tf_agents.policies import py_policy
from tf_agents.trajectories import policy_step

from tfa_custom_nets.agents.masked_random import action_sizes, random_valid_actions, valid_actions


def repeat_probabilities(mu: float, max_repeat: int) -> np.ndarray:
    """P(n) for n = 1..max_repeat, proportional to n ** -mu."""
    if max_repeat < 1 or mu < 0:
        raise ValueError(f"repeat_probabilities: expected max_repeat >= 1 and mu >= 0, got {max_repeat} and {mu}.")
    weights = np.arange(1, max_repeat + 1, dtype=np.float64) ** -mu
    return weights / weights.sum()


class EzGreedyPyPolicy(py_policy.PyPolicy):
    """Wraps a greedy `PyPolicy`; `epsilon()` is read at each decision.

    For one unbatched env by default; with `num_envs`, for batched time steps of that many envs
    (the greedy policy then takes batches too), each env holding its own random action.
    """

    def __init__(self, greedy: py_policy.PyPolicy, epsilon: Callable[[], float], mu: float = 2.0,
                 max_repeat: int = 100, seed: int | None = None, num_envs: int | None = None,
                 observation_and_action_constraint_splitter=None):
        super().__init__(greedy.time_step_spec, greedy.action_spec)
        self._splitter = observation_and_action_constraint_splitter
        self._sizes = action_sizes(greedy.action_spec)
        self._greedy = greedy
        self._epsilon = epsilon
        self._probabilities = repeat_probabilities(mu, max_repeat)
        self.rng = np.random.default_rng(seed)
        self._num_envs = num_envs
        if num_envs is None:
            self._held, self._left = None, 0
        else:
            spec = greedy.action_spec
            self._held = np.zeros((num_envs,) + tuple(spec.shape), spec.dtype)
            self._left = np.zeros(num_envs, np.int64)

    def hold_state(self) -> dict:
        """The action being held and the steps it has left, as JSON (a checkpoint keeps it with `rng`)."""
        return {"held": None if self._held is None else np.asarray(self._held).tolist(),
                "left": np.asarray(self._left).tolist()}

    def set_hold_state(self, state: dict) -> None:
        """Puts `hold_state()` back."""
        spec = self.action_spec
        self._held = None if state["held"] is None else np.asarray(state["held"], spec.dtype)
        self._left = int(state["left"]) if self._num_envs is None else np.asarray(state["left"], np.int64)

    def _random_action(self, mask=None):
        spec = self.action_spec
        if mask is not None:
            action = random_valid_actions(self.rng, mask, self._sizes)
            return (action if spec.shape else action[0]).astype(spec.dtype)
        low = np.broadcast_to(spec.minimum, spec.shape)
        high = np.broadcast_to(spec.maximum, spec.shape)
        return self.rng.integers(low, high + 1, size=spec.shape).astype(spec.dtype)

    def _action(self, time_step, policy_state, seed=None):
        if self._num_envs is not None:
            return self._batched_action(time_step)
        mask = None if self._splitter is None else np.asarray(self._splitter(time_step.observation)[1])
        if time_step.is_first():  # a held action never crosses into a new episode
            self._left = 0
        if self._left and mask is not None and not valid_actions(mask, self._held, self._sizes):
            self._left = 0  # ruled out in this state: decided afresh
        if self._left == 0 and self.rng.random() < float(self._epsilon()):
            self._held = self._random_action(mask)
            self._left = 1 + int(self.rng.choice(len(self._probabilities), p=self._probabilities))
        if self._left > 0:
            self._left -= 1
            return policy_step.PolicyStep(self._held, (), ())
        return self._greedy.action(time_step)

    def _batched_action(self, time_step):
        left = self._left
        left[time_step.is_first()] = 0
        mask = None if self._splitter is None else np.asarray(self._splitter(time_step.observation)[1])
        if mask is not None:
            left[~valid_actions(mask, self._held, self._sizes)] = 0
        epsilon = float(self._epsilon())
        for i in np.flatnonzero(left == 0):
            if self.rng.random() < epsilon:
                self._held[i] = self._random_action(None if mask is None else mask[i])
                left[i] = 1 + int(self.rng.choice(len(self._probabilities), p=self._probabilities))
        holding = left > 0
        if holding.all():
            action = self._held.copy()
        else:
            action = np.array(self._greedy.action(time_step).action)
            action[holding] = self._held[holding]
        left[holding] -= 1
        return policy_step.PolicyStep(action, (), ())
