"""A resumed run is the same run: with `deterministic=True`, the in-memory replay and one env, a DQN-family
run killed with SIGKILL at some point after its first checkpoint and resumed writes the same metrics, the same
best policy and the same final weights (every variable of its last checkpoint) as the run never stopped."""

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tests.tiny import tiny_sets

TFA_NETS = str(Path(sys.executable).with_name("tfa-nets"))
COMMON = tiny_sets({"deterministic": True, "replay.backend": "memory", "num_envs": 1, "eval_episodes": 3,
                    "agent.epsilon_decay_steps": 1000, "total_env_steps": None, "replay.learning_starts": None,
                    "replay.capacity": None, "eval_interval": None, "checkpoint_interval": None})
CASES = {
    "dqn": ("cartpole", ["total_env_steps=2500", "replay.learning_starts=300", "eval_interval=400",
                         "checkpoint_interval=500", "network.kwargs={'hidden_units': [16]}"]),
    "bdq_masked_ez": ("robot_arm_masked", ["total_env_steps=2500", "replay.learning_starts=300", "eval_interval=500",
                                           "checkpoint_interval=500", "agent.exploration='ez_greedy'",
                                           "network.kwargs={'hidden_units': [16], 'head_units': 8}"]),
}
SAME = ["env_steps", "updates", "eval_mean", "eval_std", "eval_min", "eval_max", "train_return", "epsilon", "loss"]


def command(preset, run_dir, sets):
    args = [TFA_NETS, "train", preset, "--run-dir", str(run_dir)]
    for assignment in [*COMMON, *sets]:
        args += ["--set", assignment]
    return args


def metrics(run_dir):
    with open(run_dir / "metrics.csv") as f:
        return [{k: row[k] for k in SAME} for row in csv.DictReader(f)]


def final_variables(run_dir):
    """Every tensor of the run's last checkpoint but the loop state (it holds wall times and the resumes)."""
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(run_dir / "checkpoints")))
    names = [n for n in reader.get_variable_to_shape_map() if not n.startswith(("loop_state", "_CHECKPOINTABLE"))]
    return {name: reader.get_tensor(name) for name in names}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_run_killed_after_its_first_checkpoint_and_resumed_is_the_run_never_stopped(case, tmp_path):
    preset, sets = CASES[case]
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    reference = subprocess.Popen(command(preset, whole, sets), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 text=True)
    process = subprocess.Popen(command(preset, killed, sets), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (killed / "checkpoints" / "checkpoint").exists():
        assert process.poll() is None and time.monotonic() < deadline, "no checkpoint before the run ended"
        time.sleep(0.02)
    time.sleep(random.Random(case).uniform(0.2, 2.0))  # somewhere after the first checkpoint
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not (killed / "summary.json").exists(), "the run finished before the kill: make it longer"
    _, errors = reference.communicate(timeout=600)
    assert reference.returncode == 0, errors[-3000:]
    resumed = subprocess.run([TFA_NETS, "train", preset, "--resume", str(killed)], capture_output=True, text=True,
                             timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    assert json.loads((killed / "resumes.json").read_text())["resumes"][0]["env_steps"] > 0
    assert metrics(killed) == metrics(whole) and len(metrics(whole)) >= 4
    summaries = [json.loads((d / "summary.json").read_text()) for d in (whole, killed)]
    for key in ("eval_mean", "eval_std", "best_eval_mean", "best_eval_step", "solved_at_step", "env_steps", "updates",
                "invalid_actions"):
        assert summaries[0][key] == summaries[1][key], key
    expected, got = final_variables(whole), final_variables(killed)
    assert sorted(expected) == sorted(got) and any(name.startswith("best_policy") for name in expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(got[name], value, err_msg=name)
