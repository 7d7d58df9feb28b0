"""Smoke runs of the `tfa-nets` command in subprocesses, as a user would type them."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from tests.tiny import cli_sets, tiny_sets

REPO = Path(__file__).resolve().parents[1]
TFA_NETS = str(Path(sys.executable).with_name("tfa-nets"))
SHORT = cli_sets(tiny_sets({"total_env_steps": 1500, "replay.learning_starts": 500, "eval_interval": 500,
                               "eval_episodes": 3, "checkpoint_interval": 1000}))


def run(*args, cwd=REPO):
    env = dict(os.environ, PYTHONWARNINGS="error::DeprecationWarning:tfa_custom_nets")
    return subprocess.run([*args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def cartpole_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "cartpole"
    result = run(TFA_NETS, "train", "cartpole", "--seed", "3", "--run-dir", str(run_dir), "--set", "tf_threads=1",
                 *SHORT)
    assert result.returncode == 0, result.stderr[-3000:]
    return run_dir, result


@pytest.mark.slow
def test_train_writes_the_whole_run_directory_and_says_where(cartpole_run):
    run_dir, result = cartpole_run
    for name in ("config.json", "metrics.csv", "summary.json", "learning_curve.png", "tensorboard",
                 "checkpoints", "policy", "best_policy"):
        assert (run_dir / name).exists(), name
    assert list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert list((run_dir / "checkpoints").glob("ckpt-*.index"))

    config = json.loads((run_dir / "config.json").read_text())
    from tfa_custom_nets.training import load_preset

    assert config["seed"] == 3 and config["total_env_steps"] == 1500
    assert config["agent"] == load_preset("cartpole").to_dict()["agent"]  # the rest comes from the preset

    summary = json.loads((run_dir / "summary.json").read_text())
    for key in ("eval_mean", "eval_std", "eval_episodes", "threshold", "solved_at_step", "solved_at_seconds",
                "env_steps", "wall_seconds", "env_steps_per_s", "updates_per_s", "best_eval_mean", "best_eval_step"):
        assert key in summary, key
    assert summary["threshold"] == 475.0 and summary["eval_episodes"] == 3
    assert summary["tf_threads"] == 1  # a fresh process: applied before TensorFlow started
    # 16 envs collect a batch at a time, two when a batch holds episode ends (resets are not steps)
    assert 1500 <= summary["env_steps"] < 1500 + 2 * 16 and summary["updates"] == summary["env_steps"] - 500

    with (run_dir / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["env_steps"]) // 500 for r in rows] == [1, 2, 3]
    assert float(rows[-1]["eval_mean"]) == pytest.approx(summary["eval_mean"])
    best = max(rows, key=lambda r: (float(r["eval_mean"]), int(r["env_steps"])))  # ties: the later one
    assert (summary["best_eval_mean"], summary["best_eval_step"]) == (float(best["eval_mean"]), int(best["env_steps"]))
    # What the user reads at the end: where the run is, both scores, how to evaluate it; no JSON dump.
    assert result.stdout.splitlines() == [
        f"run directory: {run_dir}",
        f"final policy: greedy mean {summary['eval_mean']:.1f} ± {summary['eval_std']:.1f} over 3 episodes after "
        f"{summary['env_steps']} env steps ({summary['train_seconds']:.0f} s of training"
        + ("; never reached 475)" if summary["solved_at_step"] is None
           else f"; first reached 475 at env step {summary['solved_at_step']})"),
        f"best policy:  greedy mean {summary['best_eval_mean']:.1f} at env step {summary['best_eval_step']}",
        f"evaluate:     tfa-nets eval {run_dir} [--policy best]   (summary.json has every number)"]
    assert all(100 < float(r["rss_mb"]) < 10_000 for r in rows)  # MiB of a process running TensorFlow


def test_saved_policy_loads_with_plain_tf_saved_model_and_scores_what_the_run_reported(cartpole_run):
    """Nothing from tfa_custom_nets: plain TensorFlow loads policy/, plain gymnasium plays the run's last
    evaluation episodes (their seeds: 1e6 + seed * 1e4 + index * episodes), and the mean is the summary's."""
    import gymnasium as gym

    run_dir, _ = cartpole_run
    summary = json.loads((run_dir / "summary.json").read_text())
    policy = tf.saved_model.load(str(run_dir / "policy"))
    returns = []
    for episode in range(3):
        env = gym.make("CartPole-v1")
        observation, _ = env.reset(seed=1_000_000 + 3 * 10_000 + 2 * 3 + episode)
        total, done = 0.0, False
        while not done:
            step = ts.restart(tf.constant(observation[None], tf.float32), batch_size=1)
            observation, reward, terminated, truncated, _ = env.step(int(policy.action(step).action.numpy()[0]))
            total, done = total + reward, terminated or truncated
        returns.append(total)
    assert np.mean(returns) == pytest.approx(summary["eval_mean"])


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["final", "best"])
def test_eval_command_scores_the_saved_policy(cartpole_run, policy):
    run_dir, _ = cartpole_run
    summary = json.loads((run_dir / "summary.json").read_text())
    # The training run's own evaluation seeds for the episode it scored last (or best): same policy, same score.
    index = 2 if policy == "final" else summary["best_eval_step"] // 500 - 1
    seed = 1_000_000 + 3 * 10_000 + index * 3
    result = run(TFA_NETS, "eval", str(run_dir), "--episodes", "3", "--seed", str(seed), "--policy", policy)
    assert result.returncode == 0, result.stderr[-3000:]
    scores = json.loads(result.stdout)
    expected = summary["eval_mean"] if policy == "final" else summary["best_eval_mean"]
    assert scores["episodes"] == 3 and scores["policy"] == policy
    assert scores["eval_mean"] == pytest.approx(expected)


@pytest.mark.slow
def test_run_directory_is_never_overwritten(cartpole_run):
    run_dir, _ = cartpole_run
    result = run(TFA_NETS, "train", "cartpole", "--run-dir", str(run_dir), *SHORT)
    assert result.returncode == 2 and "already holds a run" in result.stderr


@pytest.mark.slow
def test_preset_runs_as_a_script_and_bad_values_stop_before_anything_starts(tmp_path):
    run_dir = tmp_path / "never"
    result = run(sys.executable, "-m", "tfa_custom_nets.presets.cartpole", "--run-dir", str(run_dir),
                 "--set", "agent.gamma=1.5")
    assert result.returncode == 2
    assert "agent.gamma must be in [0, 1], got 1.5" in result.stderr
    assert not run_dir.exists()


@pytest.mark.slow
@pytest.mark.reverb
def test_distributed_commands_refuse_bad_arguments_with_a_fix(tmp_path):
    from tfa_custom_nets import cli

    def error(argv):
        result = run(TFA_NETS, *argv)
        assert result.returncode == 2, result.stderr[-2000:]
        return result.stderr

    assert "launch takes a PRESET for a new run, or --resume RUN_DIR" in error(["launch"])
    memory = ["launch", "cartpole", "--actors", "1", "--set", "replay.backend='memory'"]
    assert "--set replay.backend='reverb'" in error(memory)
    assert "no such file" in error(["actor", "--config", str(tmp_path / "missing.json"), "--replay", "localhost:1"])
    assert cli.load_config("cartpole", ["seed=4"]).seed == 4


@pytest.mark.slow
def test_values_accepted_by_type_but_not_by_meaning_are_refused_up_front(cartpole_run, tmp_path):
    run_dir, _ = cartpole_run
    for argv, message in ((["train", "cartpole", "--seed", "-1", "--run-dir", str(tmp_path / "never")],
                           "seed must be an int >= 0, got -1"),
                          (["train", "cartpole", "--set", "env.threshold=abc", "--run-dir", str(tmp_path / "never")],
                           "env.threshold must be float or None, got 'abc'"),
                          (["eval", str(run_dir), "--episodes", "0"], "--episodes must be >= 1, got 0")):
        result = run(TFA_NETS, *argv)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and message in lines[0], result.stderr[-2000:]
    assert not (tmp_path / "never").exists()
