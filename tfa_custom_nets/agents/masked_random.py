"""Uniform random actions among the valid ones, for observations that carry a flat action mask.

The mask layout is the one `tfa_custom_nets.envs.load(..., action_mask=...)` writes: one 0/1 entry
per action, `sum(n_d)` of them for a `(D,)` action (branch 0's first), `n` for one Discrete action.
`MaskedRandomPyPolicy` is the warm-up policy of a masked run (TF-Agents' `RandomPyPolicy` masks
only a scalar action), and ez-greedy draws its random actions with `random_valid_actions`.

    policy = MaskedRandomPyPolicy(env.time_step_spec(), env.action_spec(), envs.action_mask_splitter, seed=0)
"""

from __future__ import annotations

import numpy as np
from tf_agents.policies import py_policy
from tf_agents.trajectories import policy_step


def action_sizes(action_spec) -> list[int]:
    """`[n]` for a scalar int spec, `[n_1, ..., n_D]` for a `(D,)` one (minimum 0)."""
    return [int(m) + 1 for m in np.reshape(np.broadcast_to(action_spec.maximum, action_spec.shape), -1)]


def random_valid_actions(rng: np.random.Generator, mask: np.ndarray, sizes) -> np.ndarray:
    """A uniform valid action per branch: `[..., sum(sizes)]` masks -> `[..., D]` actions."""
    scores = np.where(np.asarray(mask).astype(bool), rng.random(np.shape(mask)), -1.0)
    bounds = np.cumsum([0, *sizes])
    return np.stack([np.argmax(scores[..., a:b], axis=-1) for a, b in zip(bounds[:-1], bounds[1:])], axis=-1)


def valid_actions(mask: np.ndarray, actions: np.ndarray, sizes) -> np.ndarray:
    """Whether each `[..., D]` action (or `[...]` for one branch) is allowed by its `[..., sum(sizes)]` mask."""
    actions = np.asarray(actions, np.int64).reshape(np.shape(mask)[:-1] + (len(sizes),))
    index = np.cumsum([0, *sizes[:-1]]) + actions
    return np.take_along_axis(np.asarray(mask).astype(bool), index, axis=-1).all(axis=-1)


class MaskedRandomPyPolicy(py_policy.PyPolicy):
    """Uniform random valid actions; takes single or batched time steps."""

    def __init__(self, time_step_spec, action_spec, splitter, seed: int | None = None):
        super().__init__(time_step_spec, action_spec)
        self._splitter, self._sizes = splitter, action_sizes(action_spec)
        self._rng = np.random.default_rng(seed)

    def _action(self, time_step, policy_state):
        _, mask = self._splitter(time_step.observation)
        actions = random_valid_actions(self._rng, mask, self._sizes)
        if not self.action_spec.shape:
            actions = actions[..., 0]
        return policy_step.PolicyStep(actions.astype(self.action_spec.dtype), policy_state, ())
