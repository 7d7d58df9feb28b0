"""tfa_custom_nets: custom Keras Q-models for TF-Agents' DQN.

Importing the package keeps TensorFlow, gym and absl quiet: TensorFlow's C++ log
level defaults to errors only (set ``TF_CPP_MIN_LOG_LEVEL`` yourself to change it)
and the banner that ``gym`` prints on first import (tf-agents imports it) is
swallowed. It also registers the demo env ``tfa_custom_nets/RobotArm-v0`` with gymnasium.
"""

import contextlib
import io
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

with contextlib.redirect_stderr(io.StringIO()):
    import gym  # noqa: F401  (tf-agents imports it; its banner goes to stderr)

import absl.logging  # noqa: E402

absl.logging.set_verbosity(absl.logging.ERROR)

import tensorflow as tf  # noqa: E402

tf.get_logger().setLevel("ERROR")  # tf_agents' own deprecation notices (foldr back_prop)

import gymnasium  # noqa: E402

ROBOT_ARM_ID = "tfa_custom_nets/RobotArm-v0"
if ROBOT_ARM_ID not in gymnasium.registry:
    gymnasium.register(ROBOT_ARM_ID, entry_point="tfa_custom_nets.envs.robot_arm:RobotArmEnv", max_episode_steps=200,
                       reward_threshold=22.0)

__version__ = "0.1.0"
