"""`tfa_custom_nets/RobotArm-v0`: a planar arm that must reach, grasp and place an object.

    import gymnasium as gym
    import tfa_custom_nets.envs  # registers the id
    env = gym.make("tfa_custom_nets/RobotArm-v0", joints=3, bins=5)
    env.action_space    # MultiDiscrete([5 5 5 2]): one choice per joint, then the gripper

The arm has `joints` links (total length 1) rotating about the origin; the object and
the target start 0.3 to 0.9 from it (on the unit circle for a one-link arm). Each step every
joint turns by one of `bins` evenly spaced angles in [-max_turn, max_turn], plus Gaussian
actuation noise of `turn_noise` radians, and the gripper is set open (0) or closed (1). A
closed gripper within `grasp_radius` of the object grasps it; the object then moves with the
gripper. Opening within `place_radius` of the target places it: +20 and the episode
terminates. Opening elsewhere drops the object where it is. The first grasp pays +2.
Reaching needs every joint to move together, and the gripper must close and open at the
right moments, so no action dimension can be learned alone.

Rewards between those events are potential-based shaping, `5 * (phi(s') - phi(s))`
with `phi = -(distance gripper->object unless held) - distance object->target`, so an
episode's shaping sums to `5 * (phi(end) - phi(start))`. Both distances at the start
are under 1.9, so an episode that never places returns at most 2 + 5 * 3.7 = 20.5,
and one that places at least 22 + 5 * (0.4 - 0.2) = 23. The id's
`reward_threshold` (22) is met by a greedy policy that places in most episodes.
Episodes are cut at 200 steps (truncation, not termination).

With `continuous=True` the action is a dict, `{"turn": Box(-max_turn, max_turn, (joints,)), "grip":
Discrete(2)}`: each joint turns by any angle in the range (clipped to it) while the gripper's
choice stays discrete, the mixed action a policy-gradient agent takes in one distribution per
component (`bins` is then unused).

With `joint_limit` (radians) every joint stays within [-joint_limit, joint_limit]: it starts
there, a turn past the limit stops at it, and `info["action_mask"]` (one 0/1 entry per turn of
each joint, then the gripper's two; the layout `envs.load(..., action_mask="info")` reads) rules
out the turns that would cross it. An agent without the mask can still choose them: the joint
then stops at the limit, and the env's mask counts the choice as invalid.

Observation (float32): cos and sin of each joint angle, the gripper position, the
object position, the target position, gripper->object and object->target vectors,
gripper closed, object held: `2 * joints + 12` numbers.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

PLACE_BONUS = 20.0
GRASP_BONUS = 2.0
SHAPING = 5.0  # reward per unit of distance closed


class RobotArmEnv(gym.Env):
    """See the module docstring."""

    metadata = {"render_modes": []}

    def __init__(self, joints: int = 2, bins: int = 3, max_turn: float = 0.2, grasp_radius: float = 0.2,
                 place_radius: float = 0.2, turn_noise: float = 0.03, joint_limit: float | None = None,
                 continuous: bool = False):
        if not (isinstance(joints, int) and joints >= 1):
            raise ValueError(f"RobotArm: joints must be an int >= 1, got {joints!r}.")
        if not (isinstance(bins, int) and bins >= 2):
            raise ValueError(f"RobotArm: bins must be an int >= 2 (turn choices per joint), got {bins!r}.")
        if not (max_turn > 0 and grasp_radius > 0 and place_radius > 0):
            raise ValueError("RobotArm: max_turn, grasp_radius and place_radius must be positive.")
        if not turn_noise >= 0:
            raise ValueError(f"RobotArm: turn_noise must be >= 0 (radians of actuation noise), got {turn_noise!r}.")
        if joint_limit is not None and not max_turn <= joint_limit <= np.pi:
            raise ValueError(f"RobotArm: joint_limit must be None or in [max_turn, pi] radians, got {joint_limit!r}.")
        if continuous and joint_limit is not None:
            raise ValueError("RobotArm: joint_limit publishes a mask over the discrete turns; continuous=True has "
                             "none. Fix: one of the two.")
        self.continuous = bool(continuous)
        self.turn_noise = float(turn_noise)
        self.joint_limit = None if joint_limit is None else float(joint_limit)
        self.joints, self.bins = joints, bins
        self.turns = np.linspace(-max_turn, max_turn, bins)
        self.links = np.full(joints, 1.0 / joints)
        self.grasp_radius, self.place_radius = grasp_radius, place_radius
        # A one-link arm reaches only its circle of radius 1: put the object and target on it.
        self.spawn_radii = (1.0, 1.0) if joints == 1 else (0.3, 0.9)
        if self.continuous:  # a mixed action: each joint's turn a float, the gripper a choice
            self.action_space = gym.spaces.Dict({
                "grip": gym.spaces.Discrete(2),
                "turn": gym.spaces.Box(-max_turn, max_turn, (joints,), np.float32)})
        else:
            self.action_space = gym.spaces.MultiDiscrete([bins] * joints + [2])
        self.max_turn = float(max_turn)
        # Every entry lies in [-2, 2]: unit-circle angles, points within reach 1, their differences, flags.
        self.observation_space = gym.spaces.Box(-2.0, 2.0, (2 * joints + 12,), np.float32)
        self.angles = np.zeros(joints)
        self.object = np.zeros(2)
        self.target = np.zeros(2)
        self.closed = False
        self.held = False
        self.grasped_once = False

    def _gripper(self) -> np.ndarray:
        absolute = np.cumsum(self.angles)
        return np.array([np.sum(self.links * np.cos(absolute)), np.sum(self.links * np.sin(absolute))])

    def _potential(self, gripper: np.ndarray) -> float:
        reach = 0.0 if self.held else float(np.linalg.norm(gripper - self.object))
        return SHAPING * (-reach - float(np.linalg.norm(self.object - self.target)))

    def _observation(self, gripper: np.ndarray) -> np.ndarray:
        return np.concatenate([
            np.cos(self.angles), np.sin(self.angles), gripper, self.object, self.target,
            self.object - gripper, self.target - self.object, [float(self.closed), float(self.held)],
        ]).astype(np.float32)

    def _random_point(self) -> np.ndarray:
        radius, angle = self.np_random.uniform(*self.spawn_radii), self.np_random.uniform(-np.pi, np.pi)
        return radius * np.array([np.cos(angle), np.sin(angle)])

    def _info(self, success: bool) -> dict:
        info = {"success": success}
        if self.joint_limit is not None:  # turns that stay within the limits, then the gripper's two choices
            within = np.abs(self.angles[:, None] + self.turns[None, :]) <= self.joint_limit + 1e-9
            info["action_mask"] = np.concatenate([within.ravel(), [True, True]]).astype(np.int8)
        return info

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        limit = np.pi if self.joint_limit is None else self.joint_limit
        self.angles = self.np_random.uniform(-limit, limit, self.joints)
        self.object = self._random_point()
        self.target = self._random_point()
        while np.linalg.norm(self.target - self.object) < 0.4:
            self.target = self._random_point()
        self.closed = self.held = self.grasped_once = False
        gripper = self._gripper()
        return self._observation(gripper), self._info(False)

    def _turns_and_grip(self, action):
        """The joints' turns (radians) and whether the gripper closes, from either action space."""
        if self.continuous:
            if not (isinstance(action, dict) and set(action) == {"turn", "grip"}):
                raise ValueError(f"RobotArm: expected a dict action {{'turn': ({self.joints},) floats, 'grip': 0 "
                                 f"or 1}}, got {action!r}.")
            turn = np.asarray(action["turn"], np.float64)
            if turn.shape != (self.joints,) or not np.all(np.isfinite(turn)) or int(action["grip"]) not in (0, 1):
                raise ValueError(f"RobotArm: expected turn of shape ({self.joints},) and grip 0 or 1, got {action!r}.")
            return np.clip(turn, -self.max_turn, self.max_turn), bool(int(action["grip"]))
        action = np.asarray(action)
        if action.shape != (self.joints + 1,) or not self.action_space.contains(action.astype(np.int64)):
            raise ValueError(f"RobotArm: expected an action in {self.action_space}, got {action!r}.")
        return self.turns[action[:-1]], bool(action[-1])

    def step(self, action):
        turns, close = self._turns_and_grip(action)
        before = self._potential(self._gripper())
        if self.turn_noise:
            turns = turns + self.np_random.normal(0.0, self.turn_noise, self.joints)
        if self.joint_limit is None:
            self.angles = (self.angles + turns + np.pi) % (2 * np.pi) - np.pi
        else:
            self.angles = np.clip(self.angles + turns, -self.joint_limit, self.joint_limit)
        gripper = self._gripper()
        if self.held:
            self.object = gripper.copy()
        reward, terminated = 0.0, False
        if close and not self.held and np.linalg.norm(gripper - self.object) < self.grasp_radius:
            self.held = True
            if not self.grasped_once:
                self.grasped_once = True
                reward += GRASP_BONUS
        elif not close and self.held:
            self.held = False
            if np.linalg.norm(self.object - self.target) < self.place_radius:
                reward += PLACE_BONUS
                terminated = True
        self.closed = close
        reward += self._potential(gripper) - before
        return self._observation(gripper), reward, terminated, False, self._info(terminated)
