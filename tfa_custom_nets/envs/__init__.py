"""Gymnasium environments as TF-Agents `PyEnvironment`s, action wrappers, and the RobotArm demo env."""

import gymnasium as gym

from tfa_custom_nets.envs.action_wrappers import DiscretizeActions, JointActionWrapper
from tfa_custom_nets.envs.gymnasium_env import GymnasiumEnvironment, load, spec_from_space

ROBOT_ARM_ID = "tfa_custom_nets/RobotArm-v0"
if ROBOT_ARM_ID not in gym.registry:
    gym.register(ROBOT_ARM_ID, entry_point="tfa_custom_nets.envs.robot_arm:RobotArmEnv", max_episode_steps=200,
                 reward_threshold=22.0)

__all__ = ["ROBOT_ARM_ID", "DiscretizeActions", "GymnasiumEnvironment", "JointActionWrapper", "load",
           "spec_from_space"]
