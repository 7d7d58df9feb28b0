"""Action masks from gymnasium envs, in the layout TF-Agents' splitters and `BranchingDqnAgent` read.

A gymnasium env publishes which actions are valid either in `info["action_mask"]` (Taxi does) or
as the `"action_mask"` entry of a Dict observation. `envs.load(env, action_mask="info")` (or
`"observation"`) turns either into a Dict observation

    {"observation": <what the model sees>, "action_mask": int8 0/1 of shape (n,)}

with n the actions of a Discrete space, or `sum(nvec)` for a MultiDiscrete one: branch 0's
`nvec[0]` entries, then branch 1's, and so on (sb3-contrib MaskablePPO's layout). Each time step
carries the mask of its own observation, so a stored transition's next observation carries the
next state's mask, which the (double-)Q target needs. Give the agent the matching splitter:

    import tensorflow as tf
    from tf_agents.agents.dqn import dqn_agent
    from tf_agents.specs import tensor_spec
    from tfa_custom_nets import envs
    from tfa_custom_nets.networks import KerasQNetwork

    env = envs.load("Taxi-v4", action_mask="info")
    time_step_spec = tensor_spec.from_spec(env.time_step_spec())
    action_spec = tensor_spec.from_spec(env.action_spec())
    state_spec = time_step_spec.observation["observation"]      # the model never sees the mask
    q_net = KerasQNetwork(state_spec, action_spec, build_model)  # build_model: your Keras model
    agent = dqn_agent.DdqnAgent(time_step_spec, action_spec, q_net, tf.keras.optimizers.Adam(1e-3),
                                observation_and_action_constraint_splitter=envs.action_mask_splitter)

Checked at every step: the mask's length against the action space, 0/1 values, and at least one
valid action per branch. A terminal observation (`terminated`) is never acted on and its value
is never bootstrapped from, so an all-invalid mask there (a game with no moves left) is published
as all-valid instead of refused.
"""

from __future__ import annotations

import collections

import gymnasium as gym
import numpy as np

MASK_KEY = "action_mask"
SOURCES = ("info", "observation")


def action_mask_splitter(observation):
    """`observation_and_action_constraint_splitter` for an env loaded with `action_mask`: `(observation, mask)`."""
    return observation["observation"], observation[MASK_KEY]


def branch_sizes_of_space(space: gym.Space) -> list[int] | None:
    """`[n]` for Discrete, `nvec` for a flat MultiDiscrete, None for spaces that take no mask."""
    if isinstance(space, gym.spaces.Discrete):
        return [int(space.n)]
    if isinstance(space, gym.spaces.MultiDiscrete) and space.nvec.ndim == 1:
        return [int(n) for n in space.nvec]
    return None


class ActionMasks:
    """Reads, checks and counts one env's masks; `GymnasiumEnvironment` holds one.

    Args:
      env: the gymnasium env.
      source: "info", "observation", or None. None exposes nothing to the agent, but a mask the
        env publishes in `info` is still read, so `invalid_actions` counts what an unmasked agent does.
      name: the env's name, for messages.
    """

    def __init__(self, env: gym.Env, source: str | None, name: str):
        if source not in (None, *SOURCES):
            raise ValueError(f"{name}: action_mask must be None, 'info' or 'observation', got {source!r}.")
        self.source, self.name = source, name
        self.sizes = branch_sizes_of_space(env.action_space)
        space = env.observation_space
        if source is not None and self.sizes is None:
            raise ValueError(f"{name}: action_mask={source!r} needs a Discrete or flat MultiDiscrete action space, "
                             f"got {env.action_space}. Fix: load the env without action_mask.")
        self.observation_space = space
        if source == "observation":
            if not (isinstance(space, gym.spaces.Dict) and MASK_KEY in space.spaces):
                raise ValueError(
                    f"{name}: action_mask='observation' expects a Dict observation space with an {MASK_KEY!r} key, "
                    f"got {space}. Fix: action_mask='info' if the env puts the mask in info, or a wrapper that "
                    "adds it to the observation.")
            rest = collections.OrderedDict((k, s) for k, s in space.spaces.items() if k != MASK_KEY)
            self.observation_space = rest["observation"] if list(rest) == ["observation"] else gym.spaces.Dict(rest)
        self.size = None if self.sizes is None else sum(self.sizes)
        self.offsets = None if self.sizes is None else np.cumsum([0] + self.sizes[:-1])
        self.current: np.ndarray | None = None
        """The mask of the latest observation (None while the env publishes none)."""
        self.invalid_actions: int | None = None
        """Actions taken that the env's mask ruled out; None until the env publishes a mask."""

    @property
    def exposed(self) -> bool:
        return self.source is not None

    def strip(self, raw_observation):
        """The observation without its mask entry (`action_mask="observation"`), else as it is."""
        if self.source != "observation":
            return raw_observation
        rest = {k: v for k, v in raw_observation.items() if k != MASK_KEY}
        return rest["observation"] if list(rest) == ["observation"] else rest

    def read(self, raw_observation, info: dict, env_step: int, terminated: bool) -> np.ndarray | None:
        """The checked mask of this observation (int8 0/1), kept as `current`; None if there is none."""
        if self.source == "observation":
            raw = raw_observation[MASK_KEY]
        else:
            raw = info.get(MASK_KEY) if isinstance(info, dict) else None
            if raw is None:
                if self.source == "info":
                    raise ValueError(
                        f"{self.name}: action_mask='info' but the env's info at env step {env_step} has no "
                        f"{MASK_KEY!r} (keys: {sorted(info) if isinstance(info, dict) else info!r}). Fix: "
                        "action_mask='observation' if the mask is in a Dict observation, or a gymnasium wrapper "
                        "that puts it in info.")
                self.current = None
                return None
            if self.sizes is None:  # a mask for an action space no agent here masks: ignored
                return None
        self.current = self._check(self._flat(raw), env_step, terminated)
        if self.invalid_actions is None:
            self.invalid_actions = 0
        return self.current

    def _flat(self, raw) -> np.ndarray:
        """The mask as one flat array. gymnasium documents a MultiDiscrete mask as a tuple of one array per
        branch (`MultiDiscrete.sample(mask=...)`): those are joined, branch 0's first."""
        if isinstance(raw, (tuple, list)) and len(raw) == len(self.sizes) and all(
                np.ndim(part) == 1 for part in raw):
            shapes = [np.shape(part) for part in raw]
            if shapes != [(n,) for n in self.sizes]:
                raise ValueError(f"{self.name}: the action mask is a tuple of per-branch arrays of shapes {shapes}; "
                                 f"expected shapes {[(n,) for n in self.sizes]} for nvec {self.sizes}.")
            return np.concatenate([np.asarray(part) for part in raw])
        return np.asarray(raw)

    def _check(self, mask: np.ndarray, env_step: int, terminated: bool) -> np.ndarray:
        where = f"{self.name}: the action mask at env step {env_step}"
        if mask.shape != (self.size,):
            layout = (f"{self.size} actions of the Discrete space" if len(self.sizes) == 1 else
                      f"sum(nvec) = {' + '.join(map(str, self.sizes))} = {self.size} entries, branch 0's first")
            raise ValueError(f"{where} has shape {mask.shape}; expected ({self.size},): {layout}. Fix the env's "
                             "mask, or a wrapper that reshapes it to this layout.")
        if mask.dtype != np.bool_ and not np.all((mask == 0) | (mask == 1)):
            raise ValueError(f"{where} holds {mask!r}; expected 0/1 (or bool) entries, 1 for a valid action.")
        mask = mask.astype(np.int8)
        empty = ~np.logical_or.reduceat(mask != 0, self.offsets)  # per branch: no valid action
        if empty.any():
            if terminated:  # never acted on nor bootstrapped from
                return np.ones(self.size, np.int8)
            branch = int(np.argmax(empty))
            offset, size = self.offsets[branch], self.sizes[branch]
            last = offset + size - 1
            branch_text = "" if len(self.sizes) == 1 else f" in branch {branch} (entries {offset}-{last})"
            raise ValueError(f"{where} rules out every action{branch_text}, in a state that is not terminal: "
                             "the agent has nothing to take. Fix the env's mask (at least one valid action "
                             "per branch), or end the episode there with terminated=True.")
        return mask

    def count(self, action) -> None:
        """Counts `action` (the agent's, zero-based) if the current mask rules it out."""
        if self.current is None:
            return
        index = self.offsets + np.reshape(np.asarray(action, np.int64), -1)
        self.invalid_actions += int(not self.current[index].all())

    def with_mask(self, observation):
        """The agent's observation: `{"observation": ..., "action_mask": ...}` when exposed."""
        if not self.exposed:
            return observation
        return collections.OrderedDict(observation=observation, action_mask=self.current)
