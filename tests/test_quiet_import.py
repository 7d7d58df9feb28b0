import os
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_importing_the_package_prints_nothing():
    # TensorFlow's C++ start-up lines, gym's banner and deprecation notices would all land here.
    code = ("import tfa_custom_nets, tfa_custom_nets.envs, tfa_custom_nets.networks, "
            "tfa_custom_nets.models, tfa_custom_nets.replay, tfa_custom_nets.training, tfa_custom_nets.cli")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS", "TF_CPP_MIN_LOG_LEVEL")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""


@pytest.mark.slow
def test_the_quiet_import_drops_start_up_noise_but_not_warnings_about_your_model():
    code = ("import tfa_custom_nets\n"
            "import tensorflow as tf\n"
            "tf.compat.v1.to_float(tf.constant(1))  # TensorFlow logs a deprecation notice for this\n"
            "tf.get_logger().warning('a warning about your model')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS", "TF_CPP_MIN_LOG_LEVEL")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert "a warning about your model" in result.stderr and "is deprecated" not in result.stderr
    unfiltered = subprocess.run([sys.executable, "-c", code.replace("import tfa_custom_nets\n", "")],
                                capture_output=True, text=True, timeout=120, env=env)
    assert "to_float (from tensorflow.python.ops.math_ops) is deprecated" in unfiltered.stderr  # what was dropped
