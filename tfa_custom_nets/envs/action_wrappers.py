"""Action-space wrappers for multi-action DQN.

- `JointActionWrapper`: `MultiDiscrete(nvec)` -> `Discrete(prod(nvec))`, so the stock
  `DqnAgent` can learn a small multi-action problem (with `networks.JointQNetwork`).
  Index `j` is the C-order (row-major) ravel of the per-branch actions: the first
  branch varies slowest, as `np.ravel_multi_index(actions, nvec)`. A per-branch
  `info["action_mask"]` (`sum(nvec)` entries, branch 0's first) becomes the joint one
  (`prod(nvec)` entries): a combination is valid when each of its branch actions is.
- `DiscretizeActions`: `Box` -> `MultiDiscrete([bins] * dims)` for `BranchingDqnAgent`.
  Bin `k` of `n` is `low + k * (high - low) / (n - 1)`: the bounds themselves are
  actions (gymnasium's `DiscretizeAction` uses bin centres, which never reach them),
  and an odd `n` includes the midpoint (zero torque for a symmetric range).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import gymnasium as gym
import numpy as np


class JointActionWrapper(gym.ActionWrapper):
    """One `Discrete` index for every combination of a `MultiDiscrete` action."""

    def __init__(self, env: gym.Env):
        space = env.action_space
        if not isinstance(space, gym.spaces.MultiDiscrete) or space.nvec.ndim != 1:
            raise ValueError(
                f"JointActionWrapper: expected a flat MultiDiscrete action space, got {space}. For a Box "
                "action, wrap the env in DiscretizeActions(env, bins) first.")
        super().__init__(env)
        self.nvec = space.nvec.astype(np.int64)
        self.start = space.start.astype(np.int64)
        self.action_space = gym.spaces.Discrete(int(np.prod(self.nvec)))

    def action(self, action) -> np.ndarray:
        """Joint index -> the wrapped env's action vector."""
        index = int(action)
        if not 0 <= index < self.action_space.n:
            raise ValueError(f"JointActionWrapper: joint action {index} is outside [0, {self.action_space.n}).")
        return np.array(np.unravel_index(index, self.nvec), dtype=np.int64) + self.start

    def reset(self, **kwargs):
        observation, info = self.env.reset(**kwargs)
        return observation, self._joint_mask(info)

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(self.action(action))
        return observation, reward, terminated, truncated, self._joint_mask(info)

    def _joint_mask(self, info: dict) -> dict:
        """`info` with a per-branch `action_mask` replaced by the joint one."""
        mask = info.get("action_mask") if isinstance(info, dict) else None
        if mask is None:
            return info
        mask = np.asarray(mask).astype(bool)
        if mask.shape != (int(self.nvec.sum()),):
            raise ValueError(
                f"JointActionWrapper: info['action_mask'] has shape {mask.shape}; expected ({int(self.nvec.sum())},), "
                f"one entry per action of each branch ({' + '.join(map(str, self.nvec))}), branch 0's first.")
        branches = np.split(mask, np.cumsum(self.nvec)[:-1])
        joint = functools.reduce(np.logical_and.outer, branches).ravel()  # C order, as `joint_index`
        return {**info, "action_mask": joint.astype(np.int8)}

    def joint_index(self, action) -> int:
        """The wrapped env's action vector -> its joint index (the inverse of `action`)."""
        return int(np.ravel_multi_index(np.asarray(action, np.int64) - self.start, self.nvec))


class DiscretizeActions(gym.ActionWrapper):
    """`bins` evenly spaced values per dimension of a `Box` action, endpoints included."""

    def __init__(self, env: gym.Env, bins: int | Sequence[int]):
        space = env.action_space
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
            raise ValueError(f"DiscretizeActions: expected a 1-D Box action space, got {space}.")
        if not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))):
            raise ValueError(
                f"DiscretizeActions: the Box action space must be bounded to place bins, got low={space.low}, "
                f"high={space.high}. Fix: clip the action space first (gymnasium.wrappers.ClipAction).")
        dims = space.shape[0]
        counts = np.broadcast_to(np.asarray(bins, dtype=np.int64), (dims,)) if np.ndim(bins) == 0 else np.asarray(
            bins, dtype=np.int64)
        if counts.shape != (dims,) or np.any(counts < 2):
            raise ValueError(
                f"DiscretizeActions: bins must be an int >= 2 or one per action dimension ({dims}), got {bins!r}.")
        super().__init__(env)
        self.values = [np.linspace(lo, hi, n, dtype=space.dtype) for lo, hi, n in zip(space.low, space.high, counts)]
        self.action_space = gym.spaces.MultiDiscrete(counts)

    def action(self, action) -> np.ndarray:
        """Bin indices -> the Box action."""
        index = np.asarray(action, np.int64)
        if index.shape != (len(self.values),) or not self.action_space.contains(index):
            raise ValueError(f"DiscretizeActions: expected bin indices in {self.action_space}, got {action!r}.")
        return np.array([values[i] for values, i in zip(self.values, index)], dtype=self.env.action_space.dtype)
