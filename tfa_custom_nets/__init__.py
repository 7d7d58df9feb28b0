"""tfa_custom_nets: custom Keras Q-models for TF-Agents' DQN.

Importing the package keeps TensorFlow, gym and absl quiet at start-up: TensorFlow's
C++ log level defaults to errors only (set ``TF_CPP_MIN_LOG_LEVEL`` yourself to change
it), the banner that ``gym`` prints on first import (tf-agents imports it) is swallowed,
and TensorFlow's notices about its own deprecated APIs (tf-agents calls some) are
dropped. Every other TensorFlow or Keras warning, such as one about your model, shows.
It also registers the demo env ``tfa_custom_nets/RobotArm-v0`` with gymnasium.

On TensorFlow 2.16 and later, ``tf.keras`` is Keras 3 unless ``TF_USE_LEGACY_KERAS=1`` is set
before TensorFlow is first imported; TF-Agents and these networks need Keras 2 (the ``tf-keras``
package), so where tf-keras is installed, importing this package first sets it (unless you set
it yourself). On TensorFlow 2.15, tf.keras is Keras 2 already and tf-keras is not installed.
"""

import contextlib
import importlib.util
import io
import logging
import os
import re
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if importlib.util.find_spec("tf_keras") is not None:  # Keras 2 behind tf.keras on TF >= 2.16 (TF 2.15: no tf-keras)
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

with contextlib.redirect_stderr(io.StringIO()):
    import gym  # noqa: F401  (tf-agents imports it; its banner goes to stderr)

import absl.logging  # noqa: E402

absl.logging.set_verbosity(absl.logging.ERROR)


# TensorFlow >= 2.17 writes a few C++ lines before its log level applies (absl's "All log messages
# before absl::InitializeLog()" and the oneDNN and CUDA notices). They go to file descriptor 2,
# which Python cannot filter: while TensorFlow loads, fd 2 goes to a temporary file, and every
# other line in it is written back.
_START_UP_NOISE = re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\)|"
                             r"^I0000 [\d:. ]+\d+ (port|cudart_stub|cpu_feature_guard)\.cc:\d+\] ")


def _import_tensorflow_quietly():
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (an embedded interpreter): import as is
        import tensorflow

        return tensorflow
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode(errors="replace").splitlines(keepends=True)
                    if not _START_UP_NOISE.match(line)]
            sys.stderr.write("".join(kept))
    return tensorflow


tf = _import_tensorflow_quietly()


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
