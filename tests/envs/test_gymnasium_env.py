import gymnasium as gym
import numpy as np
import pytest
from tf_agents.environments import utils as env_utils
from tf_agents.trajectories import StepType

from tests.conftest import DictObsEnv, ScriptedEnv
from tfa_custom_nets import envs


@pytest.mark.parametrize("env_id", ["CartPole-v1", "MountainCar-v0"])
def test_classic_control_passes_tf_agents_validation(env_id):
    env = envs.load(env_id, seed=0)
    env_utils.validate_py_environment(env, episodes=2)
    env.close()


def test_dict_observation_env_passes_tf_agents_validation():
    env = envs.load(DictObsEnv(), seed=0)
    spec = env.observation_spec()
    assert list(spec) == ["image", "vector"]
    assert spec["image"].dtype == np.uint8 and spec["image"].shape == (6, 6, 1)
    env_utils.validate_py_environment(env, episodes=3)


@pytest.mark.parametrize("env_id", ["MinAtar/Breakout-v1", "ALE/Pong-v5"])
def test_pixel_envs_pass_tf_agents_validation(env_id):
    if env_id not in gym.registry:  # registering twice warns
        from minatar.gym import register_envs

        register_envs()
    env = envs.load(gym.make(env_id, max_episode_steps=50), seed=0)
    spec = env.observation_spec()
    # MinAtar boards stay bool (TensorFlow has no bool bounds: an unbounded spec), frames stay uint8.
    assert spec.dtype == {"MinAtar/Breakout-v1": np.bool_, "ALE/Pong-v5": np.uint8}[env_id]
    env_utils.validate_py_environment(env, episodes=2)
    env.close()


def test_spec_mapping_for_every_space():
    spec = envs.spec_from_space(gym.spaces.Discrete(3, start=-1), "a")
    assert (spec.shape, spec.dtype, spec.minimum, spec.maximum) == ((), np.int64, 0, 2)

    spec = envs.spec_from_space(gym.spaces.MultiDiscrete([3, 2, 5]), "a")
    assert spec.shape == (3,)
    np.testing.assert_array_equal(spec.minimum, [0, 0, 0])
    np.testing.assert_array_equal(spec.maximum, [2, 1, 4])

    box = gym.spaces.Box(low=-1.0, high=np.array([1.0, 2.0], np.float32), dtype=np.float32)
    spec = envs.spec_from_space(box, "o")
    # Full-shape bounds: TF-Agents' samplers break on a scalar minimum with an array maximum.
    assert spec.minimum.shape == spec.maximum.shape == (2,)

    nested = envs.spec_from_space(
        gym.spaces.Tuple((gym.spaces.Discrete(2), gym.spaces.Dict({"x": box}))), "o")
    assert isinstance(nested, tuple) and list(nested[1]) == ["x"]


def test_discrete_start_is_shifted_both_ways():
    class Shifted(ScriptedEnv):
        def __init__(self):
            super().__init__()
            self.action_space = gym.spaces.Discrete(3, start=-1)

    raw = Shifted()
    env = envs.load(raw, seed=0)
    env.reset()
    env.step(np.int64(0))
    env.step(np.int64(2))
    assert raw.actions == [-1, 1]


def test_termination_ends_bootstrapping_and_truncation_keeps_it():
    # Hand-built episodes: terminate after 3 steps, or truncate after 2 by a time limit.
    terminated = envs.load(ScriptedEnv(terminate_at=3), seed=0)
    steps = [terminated.reset()] + [terminated.step(np.int64(0)) for _ in range(3)]
    assert [int(s.step_type) for s in steps] == [StepType.FIRST, StepType.MID, StepType.MID, StepType.LAST]
    assert [float(s.discount) for s in steps] == [1.0, 1.0, 1.0, 0.0]
    assert [float(s.reward) for s in steps] == [0.0, 1.0, 2.0, 3.0]

    truncated = envs.load(gym.wrappers.TimeLimit(ScriptedEnv(), max_episode_steps=2), seed=0)
    steps = [truncated.reset()] + [truncated.step(np.int64(0)) for _ in range(2)]
    assert int(steps[-1].step_type) == StepType.LAST
    assert float(steps[-1].discount) == 1.0  # the time limit is not the end of the MDP

    # After LAST the next step starts a new episode (TF-Agents auto-reset).
    assert int(truncated.step(np.int64(0)).step_type) == StepType.FIRST


def test_termination_wins_when_both_flags_are_set():
    env = envs.load(gym.wrappers.TimeLimit(ScriptedEnv(terminate_at=2), max_episode_steps=2), seed=0)
    env.reset()
    env.step(np.int64(0))
    last = env.step(np.int64(0))
    assert last.is_last() and float(last.discount) == 0.0


def test_same_seed_same_episode_different_seed_different_episode():
    def rollout(seed):
        env = envs.load("CartPole-v1", seed=seed)
        observations = [env.reset().observation]
        for _ in range(30):
            observations.append(env.step(np.int64(1)).observation)
        return np.stack(observations)

    np.testing.assert_array_equal(rollout(3), rollout(3))
    assert not np.array_equal(rollout(3), rollout(4))


def test_later_resets_continue_the_rng_instead_of_replaying():
    env = envs.load(ScriptedEnv(terminate_at=1), seed=0)
    first = env.reset().observation
    env.step(np.int64(0))
    second = env.step(np.int64(0)).observation  # auto-reset: a new episode
    assert first[1] != second[1]


def test_non_finite_observation_and_reward_fail_with_the_step():
    env = envs.load(ScriptedEnv(nan_at=2), seed=0)
    env.reset()
    env.step(np.int64(0))
    with pytest.raises(ValueError, match=r"observation at env step 2 contains NaN"):
        env.step(np.int64(0))

    env = envs.load(ScriptedEnv(bad_reward_at=1), seed=0)
    env.reset()
    with pytest.raises(ValueError, match=r"reward at env step 1 is inf"):
        env.step(np.int64(0))


def test_render_info_and_close_pass_through():
    raw = ScriptedEnv(render_mode="rgb_array")
    env = envs.load(raw, seed=0)
    env.reset()
    env.step(np.int64(1))
    assert env.render().shape == (4, 4, 3) and env.render()[0, 0, 0] == 1
    assert env.get_info() == {"t": 1}
    env.close()
    assert raw.closed


def test_load_refuses_make_kwargs_with_an_instance():
    with pytest.raises(ValueError, match="only apply to an env id"):
        envs.load(ScriptedEnv(), max_episode_steps=3)


def test_load_passes_make_kwargs():
    env = envs.load("CartPole-v1", seed=0, max_episode_steps=5)
    env.reset()
    steps = [env.step(np.int64(i % 2)) for i in range(5)]
    assert steps[-1].is_last() and float(steps[-1].discount) == 1.0


class ReturnsWhatItIsTold(gym.Env):
    """One Box space; `observation(t)` and `reward(t)` say what step t returns (t = 0 is the reset)."""

    def __init__(self, space, observation, reward=lambda t: 1.0):
        self.observation_space, self.action_space = space, gym.spaces.Discrete(2)
        self._observation, self._reward, self.t = observation, reward, 0

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._observation(0), {}

    def step(self, action):
        self.t += 1
        return self._observation(self.t), self._reward(self.t), False, False, {}


UINT8 = gym.spaces.Box(0, 255, (3,), np.uint8)
UNIT = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)


@pytest.mark.parametrize("space, observation, message", [
    # floats for a uint8 space would wrap (300.7 -> 44, -1 -> 255): refused, at the step they come
    (UINT8, lambda t: np.array([1, 2, 300.7]) if t == 5 else np.zeros(3, np.uint8),
     r"observation at env step 5 .* expected dtype uint8, got float64"),
    (UINT8, lambda t: np.array([1, 2, -1]) if t == 2 else np.zeros(3, np.uint8),
     r"observation at env step 2 .* values from -1 to 2, which would wrap"),
    # a (5,) observation for a (4,) space: refused at the reset, not deep inside the replay
    (UNIT, lambda t: np.zeros(5, np.float32), r"observation at env step 0 .* expected shape \(4,\), got shape \(5,\)"),
    (UNIT, lambda t: np.full(4, 0.5 if t < 3 else 1.5, np.float32),
     r"observation at env step 3 .* within the space's bounds, got 1.5 at index \(0,\) \(bounds -1.0 to 1.0\)"),
    (UNIT, lambda t: np.array(["a", "b", "c", "d"]), r"expected numbers of dtype float32, got dtype <U1"),
])
def test_observations_that_do_not_fit_their_space_are_refused_with_where_and_what(space, observation, message):
    env = envs.load(ReturnsWhatItIsTold(space, observation))
    with pytest.raises(ValueError, match=message):
        env.reset()
        for _ in range(10):
            env.step(np.int64(0))


def test_bounds_are_checked_on_the_first_steps_and_shape_on_every_step():
    from tfa_custom_nets.envs.gymnasium_env import CHECKED_STEPS

    late = CHECKED_STEPS + 5
    out_of_bounds_late = ReturnsWhatItIsTold(UNIT, lambda t: np.full(4, 2.0 if t == late else 0.0, np.float32))
    env = envs.load(out_of_bounds_late)
    env.reset()
    for _ in range(late + 1):  # past the checked steps a bound is no longer read (cheap steps) ...
        env.step(np.int64(0))
    wrong_shape_late = ReturnsWhatItIsTold(UNIT, lambda t: np.zeros(3 if t == late else 4, np.float32))
    env = envs.load(wrong_shape_late)
    env.reset()
    with pytest.raises(ValueError, match=rf"observation at env step {late} .* expected shape \(4,\)"):
        for _ in range(late + 1):  # ... but the shape is, every step
            env.step(np.int64(0))


@pytest.mark.parametrize("reward, message", [
    ("1.0", r"reward at env step 1 is '1.0' \(str\); expected one number"),
    (np.array([1.0, 2.0]), r"is array\(\[1., 2.\]\) \(ndarray, shape \(2,\)\); expected one number"),
    ([1.0], r"\(list, shape \(1,\)\); expected one number. A vector reward needs a gymnasium wrapper"),
    (True, r"reward at env step 1 is True \(bool\)"),
])
def test_rewards_that_are_not_one_number_are_refused(reward, message):
    env = envs.load(ReturnsWhatItIsTold(UNIT, lambda t: np.zeros(4, np.float32), reward=lambda t: reward))
    env.reset()
    with pytest.raises(ValueError, match=message):
        env.step(np.int64(0))


@pytest.mark.parametrize("reward", [np.float64(0.5), np.array(2.0), np.int64(3), 4])
def test_numeric_rewards_of_any_kind_pass(reward):
    env = envs.load(ReturnsWhatItIsTold(UNIT, lambda t: np.zeros(4, np.float32), reward=lambda t: reward))
    env.reset()
    assert float(env.step(np.int64(0)).reward) == float(reward)


class OldApiEnv(gym.Env):
    """An env written for the old gym API, or with one piece of gymnasium's API wrong (`broken`)."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, broken):
        self.broken = broken

    def reset(self, *, seed=None, options=None):
        observation = np.zeros(2, np.float32)
        return observation if self.broken == "reset" else (observation, {})

    def step(self, action):
        observation = np.zeros(2, np.float32)
        if self.broken == "step4":
            return observation, 1.0, False, {}
        if self.broken == "flags":
            return observation, 1.0, None, False, {}
        return observation, 1.0, False, False, {}


@pytest.mark.parametrize("broken, message", [
    ("reset", r"reset\(\) returned a ndarray; gymnasium's API returns \(observation, info\)"),
    ("step4", r"step\(\) returned a tuple of 4 \(ndarray, float, bool, dict\); gymnasium's API returns"),
    ("flags", r"step\(\) returned a tuple of 5 \(ndarray, float, NoneType, bool, dict\).*two bools"),
])
def test_an_env_that_does_not_follow_gymnasiums_api_is_named_with_what_it_returned(broken, message):
    env = envs.load(OldApiEnv(broken))
    with pytest.raises(ValueError, match=message):
        env.reset()
        env.step(np.int64(0))
