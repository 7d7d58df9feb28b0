"""A TF-Agents `PyEnvironment` around a gymnasium environment.

Released tf-agents 0.19 only wraps the old `gym` API (4-tuple `step`, one `done`
flag). gymnasium's `step` returns `terminated` and `truncated` separately, and the
difference matters for the TD target:

- `terminated` (the MDP ended: the pole fell, the goal was reached) gives
  `discount = 0`: nothing follows, so the target is the reward alone;
- `truncated` only (a time limit cut the episode) gives `discount = 1`: the state
  still has a future, so the target bootstraps from Q(s').

Usage:

    from tfa_custom_nets import envs
    env = envs.load("CartPole-v1", seed=0)
    time_step = env.reset()
    time_step = env.step(env.action_spec().minimum)
"""

from __future__ import annotations

import collections
import numbers
from typing import Any

import gymnasium as gym
import numpy as np
from tf_agents.environments import py_environment
from tf_agents.specs import array_spec
from tf_agents.trajectories import time_step as ts

from tfa_custom_nets.envs.action_masks import ActionMasks


def spec_from_space(space: gym.Space, name: str) -> Any:
    """Maps a gymnasium space to a (nested) TF-Agents array spec.

    Discrete and MultiDiscrete become zero-based int specs (a space with
    `start != 0` is shifted: index i means `start + i` to the env); bounds are
    full-shape arrays because TF-Agents' samplers fail on a scalar minimum with an
    array maximum.
    """
    if isinstance(space, gym.spaces.Discrete):
        return array_spec.BoundedArraySpec(
            (), space.dtype, minimum=0, maximum=int(space.n) - 1, name=name)
    if isinstance(space, gym.spaces.MultiDiscrete):
        if space.nvec.ndim != 1:
            raise ValueError(
                f"{name}: MultiDiscrete with nvec of shape {space.nvec.shape} is not "
                "supported; expected a flat nvec of shape (D,). Flatten the space, "
                "e.g. MultiDiscrete(nvec.ravel()).")
        return array_spec.BoundedArraySpec(
            space.shape, space.dtype, minimum=np.zeros(space.shape, space.dtype),
            maximum=(space.nvec - 1).astype(space.dtype), name=name)
    if isinstance(space, gym.spaces.MultiBinary):
        return array_spec.BoundedArraySpec(
            space.shape, space.dtype, minimum=np.zeros(space.shape, space.dtype),
            maximum=np.ones(space.shape, space.dtype), name=name)
    if isinstance(space, gym.spaces.Box):
        if space.dtype == np.bool_:  # MinAtar boards; TensorFlow has no bounds for bool
            return array_spec.ArraySpec(space.shape, space.dtype, name=name)
        minimum = np.broadcast_to(space.low, space.shape).astype(space.dtype)
        maximum = np.broadcast_to(space.high, space.shape).astype(space.dtype)
        return array_spec.BoundedArraySpec(
            space.shape, space.dtype, minimum=minimum, maximum=maximum, name=name)
    if isinstance(space, gym.spaces.Dict):
        return collections.OrderedDict(
            (key, spec_from_space(sub, f"{name}/{key}")) for key, sub in space.spaces.items())
    if isinstance(space, gym.spaces.Tuple):
        return tuple(spec_from_space(sub, f"{name}/{i}") for i, sub in enumerate(space.spaces))
    raise ValueError(
        f"{name}: gymnasium space {space!r} is not supported; expected Discrete, "
        "MultiDiscrete, MultiBinary, Box, Dict or Tuple.")


def _from_env(space: gym.Space, value: Any) -> Any:
    """An observation from the env as arrays matching `spec_from_space(space)`."""
    if isinstance(space, gym.spaces.Dict):
        return collections.OrderedDict((k, _from_env(s, value[k])) for k, s in space.spaces.items())
    if isinstance(space, gym.spaces.Tuple):
        return tuple(_from_env(s, v) for s, v in zip(space.spaces, value))
    if isinstance(space, (gym.spaces.Discrete, gym.spaces.MultiDiscrete)):
        return np.asarray(value - space.start, dtype=space.dtype)
    return np.asarray(value, dtype=space.dtype)


def _to_env(space: gym.Space, value: Any) -> Any:
    """An action from the agent in the form `space` expects."""
    if isinstance(space, gym.spaces.Dict):
        return {k: _to_env(s, value[k]) for k, s in space.spaces.items()}
    if isinstance(space, gym.spaces.Tuple):
        return tuple(_to_env(s, v) for s, v in zip(space.spaces, value))
    if isinstance(space, gym.spaces.Discrete):
        return int(value) + int(space.start)
    if isinstance(space, gym.spaces.MultiDiscrete):
        return np.asarray(value, dtype=space.dtype) + space.start
    return np.asarray(value, dtype=space.dtype)


CHECKED_STEPS = 1_000  # steps whose observations are checked against the space's bounds (shape and dtype: every step)


def _mismatch(space: gym.Space, value: Any, bounds: bool) -> str | None:
    """How `value` (an observation as the env returned it) does not fit `space`, or None.

    Shape and dtype are checked at every step (a value that cannot be cast without changing it, such
    as floats for a uint8 space, which would wrap around); bounds only with `bounds`.
    """
    if isinstance(space, gym.spaces.Dict):
        if not isinstance(value, dict) or set(value) != set(space.spaces):
            return f"a dict with keys {sorted(space.spaces)}, got {type(value).__name__} {value!r:.80}"
        for key, sub in space.spaces.items():
            why = _mismatch(sub, value[key], bounds)
            if why:
                return f"[{key!r}]: {why}"
        return None
    if isinstance(space, gym.spaces.Tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(space.spaces):
            return f"a tuple of {len(space.spaces)}, got {value!r:.80}"
        for i, (sub, item) in enumerate(zip(space.spaces, value)):
            why = _mismatch(sub, item, bounds)
            if why:
                return f"[{i}]: {why}"
        return None
    array = np.asarray(value)
    if array.shape != space.shape:
        return f"shape {space.shape}, got shape {array.shape}"
    if array.dtype.kind not in "biuf":
        return f"numbers of dtype {space.dtype}, got dtype {array.dtype}"
    target = np.dtype(space.dtype)
    if array.dtype != target:
        if target.kind in "biu" and array.dtype.kind == "f":
            return (f"dtype {target}, got {array.dtype} (casting would round or wrap values such as "
                    f"{array.flat[0].item()!r})")
        if target.kind in "iu" and array.dtype.kind in "iu" and array.size and (
                array.min() < np.iinfo(target).min or array.max() > np.iinfo(target).max):
            return f"dtype {target}, got {array.dtype} values from {array.min()} to {array.max()}, which would wrap"
    if bounds and array.size and isinstance(space, (gym.spaces.Box, gym.spaces.Discrete, gym.spaces.MultiDiscrete)):
        if isinstance(space, gym.spaces.Box):
            low, high = space.low, space.high
        elif isinstance(space, gym.spaces.Discrete):
            low, high = space.start, space.start + space.n - 1
        else:
            low, high = space.start, space.start + space.nvec - 1
        outside = (array < low) | (array > high)
        if np.any(outside):
            index = tuple(int(i) for i in np.argwhere(outside)[0])
            return (f"values within the space's bounds, got {array[index].item()!r} at index {index} (bounds "
                    f"{np.broadcast_to(low, array.shape)[index].item()!r} to "
                    f"{np.broadcast_to(high, array.shape)[index].item()!r})")
    return None


def _first_non_finite(observation: Any, spec: Any) -> Any:
    """The first float leaf of `observation` with NaN/inf in it, or None."""
    for leaf, leaf_spec in zip(_flatten(observation), _flatten(spec)):
        if np.issubdtype(leaf_spec.dtype, np.floating) and not np.all(np.isfinite(leaf)):
            return leaf
    return None


_MID, _LAST = np.asarray(ts.StepType.MID, np.int32), np.asarray(ts.StepType.LAST, np.int32)
_ZERO, _ONE = np.asarray(0.0, np.float32), np.asarray(1.0, np.float32)
for _constant in (_MID, _LAST, _ZERO, _ONE):  # shared by every time step: never written to
    _constant.flags.writeable = False


def _describe(value: Any) -> str:
    """What an env call returned, briefly: the types of a tuple's items, else the value's type."""
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} ({', '.join(type(item).__name__ for item in value)})"
    return f"a {type(value).__name__}"


def _flatten(nest: Any) -> list:
    if isinstance(nest, dict):
        return [x for v in nest.values() for x in _flatten(v)]
    if isinstance(nest, tuple):
        return [x for v in nest for x in _flatten(v)]
    return [nest]


class GymnasiumEnvironment(py_environment.PyEnvironment):
    """A `PyEnvironment` that steps a gymnasium env (see the module docstring).

    Episodes restart on their own: stepping after a LAST time step resets the env
    (TF-Agents' `handle_auto_reset`), as `PyDriver` expects.
    """

    def __init__(self, env: gym.Env, seed: int | None = None, check_finite: bool = True,
                 action_mask: str | None = None):
        super().__init__(handle_auto_reset=True)
        self._env = env
        self._seed = seed
        self._check_finite = check_finite
        self._name = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
        self._masks = ActionMasks(env, action_mask, self._name)
        self._observation_space = self._masks.observation_space  # what the model sees: without the mask
        self._observation_spec = spec_from_space(self._observation_space, "observation")
        if self._masks.exposed:
            self._observation_spec = collections.OrderedDict(
                observation=self._observation_spec,
                action_mask=array_spec.BoundedArraySpec((self._masks.size,), np.int8, 0, 1,
                                                        name="observation/action_mask"))
        self._action_spec = spec_from_space(env.action_space, "action")
        self._env_steps = 0
        self._info: dict = {}
        if seed is not None:
            env.action_space.seed(seed)
            env.observation_space.seed(seed)

    @property
    def gym_env(self) -> gym.Env:
        return self._env

    def observation_spec(self):
        return self._observation_spec

    def action_spec(self):
        return self._action_spec

    def get_info(self) -> dict:
        return self._info

    @property
    def invalid_actions(self) -> int | None:
        """Actions this env was given that its action mask ruled out (None if it publishes no mask)."""
        return self._masks.invalid_actions

    @property
    def action_mask(self) -> str | None:
        """Where the agent's observations take their mask from: "info", "observation" or None."""
        return self._masks.source

    def seed(self, seed: int | None) -> None:
        """Seeds the next reset (later resets continue the env's own RNG)."""
        self._seed = seed

    def _reset(self) -> ts.TimeStep:
        result = self._env.reset(seed=self._seed)
        if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
            raise ValueError(
                f"{self._name}: reset() returned {_describe(result)}; gymnasium's API returns (observation, info) "
                "with info a dict. An env written for the old gym API returns the observation alone: update its "
                "reset (and step, which returns 5 values), or wrap it in a gymnasium.Wrapper that does.")
        observation, self._info = result
        self._seed = None  # reseeding every episode would replay the same episode
        return ts.restart(self._observation(observation, self._info, terminated=False))

    def _step(self, action) -> ts.TimeStep:
        self._masks.count(action)
        result = self._env.step(_to_env(self._env.action_space, action))
        if not (isinstance(result, tuple) and len(result) == 5 and isinstance(result[4], dict)
                and all(np.ndim(flag) == 0 and np.asarray(flag).dtype == np.bool_ for flag in result[2:4])):
            raise ValueError(
                f"{self._name}: step() returned {_describe(result)}; gymnasium's API returns (observation, reward, "
                "terminated, truncated, info) with two bools and a dict. An env written for the old gym API returns "
                "4 values (one done flag): update its step, or wrap it in a gymnasium.Wrapper that splits done into "
                "terminated and truncated.")
        observation, reward, terminated, truncated, self._info = result
        self._env_steps += 1
        observation = self._observation(observation, self._info, terminated)
        if not isinstance(reward, numbers.Real) or isinstance(reward, bool):
            shape = np.shape(reward) if isinstance(reward, (np.ndarray, list, tuple)) else None
            if not (shape == () and np.asarray(reward).dtype.kind in "iuf"):
                raise ValueError(
                    f"{self._name}: reward at env step {self._env_steps} is {reward!r} ({type(reward).__name__}"
                    f"{f', shape {shape}' if shape else ''}); expected one number. A vector reward needs a "
                    "gymnasium wrapper that combines it into a scalar; a string or bool one, a fix in the env.")
        reward = np.asarray(reward, dtype=np.float32)
        if self._check_finite and not np.isfinite(reward):
            raise ValueError(
                f"{self._name}: reward at env step {self._env_steps} is {float(reward)}; "
                "expected a finite number. Fix the environment's reward or clip it with "
                "a gymnasium reward wrapper before loading it.")
        # The TimeStep that ts.termination / ts.truncation / ts.transition build, built directly:
        # their argument checks cost about 60 us a step, as much as the rest of the step.
        step_type = _LAST if terminated or truncated else _MID
        return ts.TimeStep(step_type, reward, _ZERO if terminated else _ONE, observation)

    def _observation(self, raw: Any, info: dict, terminated: bool) -> Any:
        why = _mismatch(self._env.observation_space, raw, bounds=self._env_steps < CHECKED_STEPS)
        if why is not None:
            raise ValueError(
                f"{self._name}: observation at env step {self._env_steps} does not fit the observation space "
                f"{self._env.observation_space}: expected {why}. Fix the environment, or its observation_space "
                "(a gymnasium wrapper such as TransformObservation can change both).")
        self._masks.read(raw, info, self._env_steps, terminated)
        observation = _from_env(self._observation_space, self._masks.strip(raw))
        if self._check_finite:
            bad = _first_non_finite(observation, self._observation_spec)
            if bad is not None:
                raise ValueError(
                    f"{self._name}: observation at env step {self._env_steps} contains "
                    f"NaN or inf: {bad!r}. Expected finite values; fix the environment "
                    "or add a gymnasium observation wrapper that cleans them.")
        return self._masks.with_mask(observation)

    def render(self, mode: str = "rgb_array"):
        """Returns `env.render()`; the mode is fixed by `render_mode` at make time."""
        del mode
        return self._env.render()

    def close(self) -> None:
        self._env.close()


def load(env_id_or_env: str | gym.Env, seed: int | None = None, action_mask: str | None = None,
         **make_kwargs) -> GymnasiumEnvironment:
    """A TF-Agents `PyEnvironment` around a gymnasium env.

    Args:
      env_id_or_env: a gymnasium id (made with `gymnasium.make(id, **make_kwargs)`)
        or an env instance.
      seed: seeds the first reset and the action/observation spaces.
      action_mask: "info" (the env's `info["action_mask"]`) or "observation" (the `"action_mask"`
        entry of its Dict observation) makes observations `{"observation": ..., "action_mask": ...}`
        for `envs.action_mask_splitter` (see `envs.action_masks`); None leaves them as they are.
      **make_kwargs: passed to `gymnasium.make` (e.g. `max_episode_steps`).
    """
    if isinstance(env_id_or_env, str):
        env = gym.make(env_id_or_env, **make_kwargs)
    elif isinstance(env_id_or_env, gym.Env):
        if make_kwargs:
            raise ValueError(
                f"load() got make_kwargs {sorted(make_kwargs)} with an env instance; they "
                "only apply to an env id. Pass the id instead, or configure the instance.")
        env = env_id_or_env
    else:
        raise TypeError(
            f"load() expected a gymnasium id or gymnasium.Env, got {type(env_id_or_env).__name__}.")
    return GymnasiumEnvironment(env, seed=seed, action_mask=action_mask)
