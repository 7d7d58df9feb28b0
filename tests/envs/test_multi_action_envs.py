import itertools

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from tf_agents.environments import utils as env_utils

from tfa_custom_nets import envs
from tfa_custom_nets.envs.robot_arm import RobotArmEnv


def test_joint_action_wrapper_round_trips_every_index():
    base = gym.make(envs.ROBOT_ARM_ID, joints=3, bins=5)  # MultiDiscrete([5, 5, 5, 2])
    env = envs.JointActionWrapper(base)
    assert env.action_space.n == 5 * 5 * 5 * 2
    seen = set()
    for index in range(env.action_space.n):
        vector = env.action(index)
        assert base.action_space.contains(vector)
        assert env.joint_index(vector) == index
        seen.add(tuple(vector))
    assert len(seen) == env.action_space.n
    np.testing.assert_array_equal(env.action(1), [0, 0, 0, 1])  # C order: the last branch varies fastest


def test_joint_action_wrapper_keeps_a_non_zero_start():
    class Shifted(gym.Env):
        action_space = gym.spaces.MultiDiscrete([2, 3], start=[-1, 5])
        observation_space = gym.spaces.Box(0, 1, (1,))

    env = envs.JointActionWrapper(Shifted())
    assert [env.action(j).tolist() for j in range(6)] == [[-1, 5], [-1, 6], [-1, 7], [0, 5], [0, 6], [0, 7]]
    assert env.joint_index([0, 7]) == 5


def test_joint_action_wrapper_refuses_other_spaces():
    with pytest.raises(ValueError, match="MultiDiscrete.*DiscretizeActions"):
        envs.JointActionWrapper(gym.make("Pendulum-v1"))


def test_discretize_actions_includes_the_bounds():
    env = envs.DiscretizeActions(gym.make("Pendulum-v1"), bins=5)  # torque in [-2, 2]
    assert env.action_space == gym.spaces.MultiDiscrete([5])
    assert [float(env.action([k])[0]) for k in range(5)] == [-2.0, -1.0, 0.0, 1.0, 2.0]
    env.reset(seed=0)
    env.step(np.array([4]))
    with pytest.raises(ValueError, match="expected bin indices"):
        env.action([5])


def test_discretize_actions_bad_input():
    with pytest.raises(ValueError, match="1-D Box"):
        envs.DiscretizeActions(gym.make("CartPole-v1"), bins=3)
    with pytest.raises(ValueError, match="bins must be an int >= 2"):
        envs.DiscretizeActions(gym.make("Pendulum-v1"), bins=1)
    with pytest.raises(ValueError, match="one per action dimension"):
        envs.DiscretizeActions(gym.make("Pendulum-v1"), bins=[3, 3])


@pytest.mark.parametrize("joints, bins", [(1, 2), (2, 3), (4, 5)])
def test_robot_arm_passes_gymnasium_and_tf_agents_checks(joints, bins):
    raw = gym.make(envs.ROBOT_ARM_ID, joints=joints, bins=bins)
    assert raw.action_space == gym.spaces.MultiDiscrete([bins] * joints + [2])
    check_env(raw.unwrapped, skip_render_check=True)
    env = envs.load(raw, seed=0)
    assert env.action_spec().shape == (joints + 1,)
    env_utils.validate_py_environment(env, episodes=2)


def lookahead_controller(env: RobotArmEnv):
    """Picks the joint turns that bring the gripper closest to the current goal; grasps and places."""
    gripper = env._gripper()
    goal = env.target if env.held else env.object
    best, best_distance = None, np.inf
    for turns in itertools.product(range(env.bins), repeat=env.joints):
        angles = env.angles + env.turns[list(turns)]
        absolute = np.cumsum(angles)
        point = np.array([np.sum(env.links * np.cos(absolute)), np.sum(env.links * np.sin(absolute))])
        distance = np.linalg.norm(point - goal)
        if distance < best_distance:
            best, best_distance = turns, distance
    near = np.linalg.norm(gripper - goal) < 0.9 * (env.place_radius if env.held else env.grasp_radius)
    if env.held:
        close = 0 if near else 1               # open over the target
    else:
        close = 1 if near else 0               # close on the object
    return np.array([*best, close])


def test_robot_arm_is_solved_by_a_lookahead_controller_and_not_by_chance():
    raw = gym.make(envs.ROBOT_ARM_ID, joints=3, bins=5)
    returns, successes = [], 0
    for seed in range(10):
        raw.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, info = raw.step(lookahead_controller(raw.unwrapped))
            total += reward
            done = terminated or truncated
        returns.append(total)
        successes += info["success"]
    assert successes == 10 and min(returns) >= raw.spec.reward_threshold

    random_returns = []
    for seed in range(20):
        raw.reset(seed=seed)
        raw.action_space.seed(seed)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = raw.step(raw.action_space.sample())
            total += reward
            done = terminated or truncated
        random_returns.append(total)
    assert np.mean(random_returns) < 10.0  # far below the threshold of 22


def test_robot_arm_rewards_by_hand():
    env = RobotArmEnv(joints=1, bins=3, max_turn=0.2, grasp_radius=0.1, place_radius=0.1, turn_noise=0.0)
    env.reset(seed=0)
    env.angles[:] = 0.0                                  # gripper at (1, 0)
    env.object, env.target = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    env.closed = False
    # Close on the object: grasp bonus 2; phi is -5 sqrt(2) before and after (held: no reach term).
    _, reward, terminated, _, _ = env.step(np.array([1, 1]))
    assert env.held and reward == pytest.approx(2.0) and not terminated
    # Turn +0.2 rad holding it: phi goes from -5 sqrt(2) to -5 |(cos .2, sin .2) - (0, 1)|.
    _, reward, _, _, _ = env.step(np.array([2, 1]))
    moved = np.array([np.cos(0.2), np.sin(0.2)])
    assert reward == pytest.approx(5 * (np.sqrt(2) - np.linalg.norm(moved - [0.0, 1.0])))
    # Open away from the target: the object drops there, no bonus, no termination (phi unchanged: reach 0).
    _, reward, terminated, _, _ = env.step(np.array([1, 0]))
    assert not env.held and reward == pytest.approx(0.0) and not terminated
    np.testing.assert_allclose(env.object, moved)
    # Grasp it again: no second bonus. Then carry it onto a target at angle 0.4 and open there: +20, ends.
    _, reward, _, _, _ = env.step(np.array([1, 1]))
    assert env.held and reward == pytest.approx(0.0)
    env.target = np.array([np.cos(0.4), np.sin(0.4)])
    _, reward, _, _, _ = env.step(np.array([2, 1]))     # carried onto the target: phi from -5 |d| to 0
    assert reward == pytest.approx(5 * np.linalg.norm(moved - env.target))
    _, reward, terminated, _, info = env.step(np.array([1, 0]))
    assert reward == pytest.approx(20.0) and terminated and info["success"]
    with pytest.raises(ValueError, match="expected an action in MultiDiscrete"):
        env.step(np.array([3, 0]))
