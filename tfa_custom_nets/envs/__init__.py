"""Gymnasium envs as TF-Agents `PyEnvironment`s (with action masks), action wrappers, the RobotArm demo env."""

from tfa_custom_nets import ROBOT_ARM_ID  # registered with gymnasium when the package is imported
from tfa_custom_nets.envs.action_masks import action_mask_splitter
from tfa_custom_nets.envs.action_wrappers import DiscretizeActions, JointActionWrapper
from tfa_custom_nets.envs.gymnasium_env import GymnasiumEnvironment, load, spec_from_space

__all__ = ["ROBOT_ARM_ID", "DiscretizeActions", "GymnasiumEnvironment", "JointActionWrapper", "action_mask_splitter",
           "load", "spec_from_space"]
