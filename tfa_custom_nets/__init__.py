"""tfa_custom_nets: custom Keras Q-models for TF-Agents' DQN.

Importing the package keeps TensorFlow, gym and absl quiet at start-up: TensorFlow's
C++ log level defaults to errors only (set ``TF_CPP_MIN_LOG_LEVEL`` yourself to change
it), the banner that ``gym`` prints on first import (tf-agents imports it) is swallowed,
and TensorFlow's notices about its own deprecated APIs (tf-agents calls some) are
dropped. Every other TensorFlow or Keras warning, such as one about your model, shows.
It also registers the demo env ``tfa_custom_nets/RobotArm-v0`` with gymnasium.
"""

import contextlib
import io
import logging
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

with contextlib.redirect_stderr(io.StringIO()):
    import gym  # noqa: F401  (tf-agents imports it; its banner goes to stderr)

import absl.logging  # noqa: E402

absl.logging.set_verbosity(absl.logging.ERROR)

import tensorflow as tf  # noqa: E402


class _WithoutDeprecationNotices(logging.Filter):
    """Drops what TensorFlow's deprecation decorator logs (tf_agents calls `foldr(back_prop=False)`, ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.pathname.replace("\\", "/").endswith("tensorflow/python/util/deprecation.py")


tf.get_logger().addFilter(_WithoutDeprecationNotices())

import gymnasium  # noqa: E402

ROBOT_ARM_ID = "tfa_custom_nets/RobotArm-v0"
if ROBOT_ARM_ID not in gymnasium.registry:
    gymnasium.register(ROBOT_ARM_ID, entry_point="tfa_custom_nets.envs.robot_arm:RobotArmEnv", max_episode_steps=200,
                       reward_threshold=22.0)

__version__ = "0.1.0"
