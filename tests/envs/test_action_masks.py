"""Masks from gymnasium envs: `envs.load(..., action_mask="info" | "observation")`, the checks on every
mask, and invalid actions counted whether or not the agent sees the mask."""

import gymnasium as gym
import numpy as np
import pytest
from tf_agents.specs import array_spec

from tfa_custom_nets import envs


class MaskedEnv(gym.Env):
    """MultiDiscrete([3, 2]) actions; the mask at step t is `masks[t]`, published in info and/or the observation."""

    def __init__(self, masks, in_observation=False, terminate_at=None, extra_key=False):
        self.masks, self.terminate_at = [np.asarray(m) for m in masks], terminate_at
        self.in_observation, self.extra_key = in_observation, extra_key
        self.action_space = gym.spaces.MultiDiscrete([3, 2])
        box = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        if in_observation:
            spaces = {"observation": box, "action_mask": gym.spaces.MultiBinary(5)}
            if extra_key:
                spaces["goal"] = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
            self.observation_space = gym.spaces.Dict(spaces)
        else:
            self.observation_space = box
        self.t = 0

    def _out(self):
        state = np.full(2, self.t / 10, np.float32)
        mask = self.masks[self.t].astype(np.int8)
        if not self.in_observation:
            return state, {"action_mask": mask}
        observation = {"observation": state, "action_mask": mask}
        if self.extra_key:
            observation["goal"] = np.zeros(1, np.float32)
        return observation, {}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._out()

    def step(self, action):
        self.t += 1
        observation, info = self._out()
        return observation, 1.0, self.t == self.terminate_at, False, info


FULL = [1, 1, 1, 1, 1]


def test_info_masks_become_a_dict_observation_and_the_next_mask_travels_with_the_next_step():
    env = envs.load(MaskedEnv([FULL, [1, 0, 0, 1, 1], [0, 1, 1, 0, 1]]), action_mask="info")
    spec = env.observation_spec()
    assert list(spec) == ["observation", "action_mask"]
    assert spec["action_mask"] == array_spec.BoundedArraySpec((5,), np.int8, 0, 1, name="observation/action_mask")
    assert spec["observation"].shape == (2,)
    first = env.reset()
    np.testing.assert_array_equal(first.observation["action_mask"], FULL)
    second = env.step(np.array([0, 1]))
    np.testing.assert_array_equal(second.observation["action_mask"], [1, 0, 0, 1, 1])
    np.testing.assert_allclose(second.observation["observation"], [0.1, 0.1])
    assert env.invalid_actions == 0
    env.step(np.array([1, 0]))  # action 1 of branch 0 is ruled out at step 1
    assert env.invalid_actions == 1


@pytest.mark.parametrize("extra_key", [False, True])
def test_observation_masks_are_split_from_the_rest(extra_key):
    env = envs.load(MaskedEnv([FULL, FULL], in_observation=True, extra_key=extra_key), action_mask="observation")
    spec = env.observation_spec()
    if extra_key:  # the rest stays a dict
        assert sorted(spec["observation"]) == ["goal", "observation"]
    else:
        assert spec["observation"].shape == (2,)
    observation = env.reset().observation
    assert set(observation) == {"observation", "action_mask"}
    np.testing.assert_array_equal(observation["action_mask"], FULL)


def test_an_unmasked_run_still_counts_the_invalid_actions_the_env_reports():
    env = envs.load("Taxi-v4", seed=0)  # no action_mask: the agent sees the plain state index
    assert env.observation_spec().shape == ()
    env.reset()  # state 314: only the first two moves are valid
    env.step(np.int64(2))
    env.step(np.int64(0))
    assert env.invalid_actions == 1  # east hits a wall at 314 (the taxi stays), south is open
    assert envs.load("CartPole-v1").invalid_actions is None


def test_discrete_masks_come_from_taxi():
    env = envs.load("Taxi-v4", seed=0, action_mask="info")
    step = env.reset()
    np.testing.assert_array_equal(step.observation["action_mask"], env.gym_env.unwrapped.action_mask(314))


@pytest.mark.parametrize("masks, error", [
    ([[1, 1, 1, 1]], r"shape \(4,\); expected \(5,\).*3 \+ 2 = 5 entries, branch 0's first"),
    ([[1, 1, 2, 1, 1]], "expected 0/1"),
    ([FULL, [1, 1, 1, 0, 0]], r"at env step 1 rules out every action in branch 1 \(entries 3-4\)"),
])
def test_bad_masks_are_refused_with_what_and_where(masks, error):
    env = envs.load(MaskedEnv(masks), action_mask="info")
    with pytest.raises(ValueError, match=error):
        env.reset()
        env.step(np.array([0, 0]))


def test_an_all_false_mask_is_accepted_on_a_terminal_state_as_all_valid():
    env = envs.load(MaskedEnv([FULL, [0, 0, 0, 0, 0]], terminate_at=1), action_mask="info")
    env.reset()
    last = env.step(np.array([0, 0]))
    assert last.is_last() and last.discount == 0
    np.testing.assert_array_equal(last.observation["action_mask"], FULL)


def test_mask_sources_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match="Dict observation space with an 'action_mask' key"):
        envs.load(MaskedEnv([FULL]), action_mask="observation")
    with pytest.raises(ValueError, match="info at env step 0 has no 'action_mask'"):
        envs.load(MaskedEnv([FULL], in_observation=True), action_mask="info").reset()
    with pytest.raises(ValueError, match="needs a Discrete or flat MultiDiscrete action space"):
        envs.load("Pendulum-v1", action_mask="info")
    with pytest.raises(ValueError, match="action_mask must be None, 'info' or 'observation'"):
        envs.load("CartPole-v1", action_mask="yes")


class TupleMaskEnv(MaskedEnv):
    """gymnasium's own MultiDiscrete mask format: a tuple of one int8 array per branch."""

    def _out(self):
        state, info = super()._out()
        mask = info["action_mask"]
        return state, {"action_mask": (mask[:3], mask[3:])}


@pytest.mark.parametrize("source", ["info", None])
def test_gymnasiums_per_branch_tuple_mask_is_read_as_the_flat_layout(source):
    env = envs.load(TupleMaskEnv([FULL, [1, 0, 1, 0, 1], FULL]), action_mask=source)
    first = env.reset()
    if source == "info":
        np.testing.assert_array_equal(first.observation["action_mask"], FULL)
        second = env.step(np.array([0, 1]))
        np.testing.assert_array_equal(second.observation["action_mask"], [1, 0, 1, 0, 1])
    else:
        env.step(np.array([0, 1]))
    env.step(np.array([1, 1]))  # branch 0's action 1 (entry 1) is ruled out
    assert env.invalid_actions == 1
    bad = envs.load(TupleMaskEnv([FULL]), action_mask="info")
    bad.gym_env.masks = [np.array([1, 1, 1, 1])]
    with pytest.raises(ValueError, match="action mask"):
        bad.reset()


def test_invalid_actions_are_counted_at_each_branchs_own_offset():
    """nvec [3, 2], mask [1 0 1 | 0 1] at every step: branch 0 allows 0 and 2, branch 1 allows 1. Worked out
    entry by entry (branch 1's entries start at offset 3)."""
    mask = [1, 0, 1, 0, 1]
    env = envs.load(MaskedEnv([mask] * 10), action_mask="info")
    env.reset()
    expected = 0
    for action, invalid in [([0, 1], False), ([1, 1], True), ([0, 0], True), ([2, 1], False), ([2, 0], True),
                            ([1, 0], True)]:
        env.step(np.array(action))
        expected += invalid
        assert env.invalid_actions == expected, action
    assert expected == 4
