"""A training process killed with SIGKILL resumes from its last checkpoint and finishes; the random
streams its checkpoint saves replay the same draws."""

import contextlib
import csv
import errno
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import array_spec

from tests.agents.test_ez_greedy import ConstantPolicy, first, mid
from tests.tiny import tiny_sets
from tfa_custom_nets import cli
from tfa_custom_nets.agents.ez_greedy import EzGreedyPyPolicy
from tfa_custom_nets.training import (
    RUN_MARKER,
    EnvConfig,
    capture_rng_states,
    load_preset,
    make_env,
    restore_rng_states,
)

SETS = tiny_sets({"total_env_steps": 3000, "replay.capacity": 5000, "eval_interval": 200, "checkpoint_interval": 400,
                  "network.kwargs": {'hidden_units': [32]}})


def loop_state(run_dir):
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(run_dir / "checkpoints")))
    return json.loads(reader.get_tensor("loop_state/.ATTRIBUTES/VARIABLE_VALUE").decode())


def start_training(run_dir, backend, num_envs):
    command = [sys.executable, "-m", "tfa_custom_nets.cli", "train", "cartpole", "--run-dir", str(run_dir)]
    prioritized = backend == "reverb-prioritized"
    backend = "reverb" if prioritized else backend
    for assignment in [*SETS, f"replay.backend={backend!r}", f"num_envs={num_envs}",
                       f"replay.prioritized={prioritized}"]:
        command += ["--set", assignment]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
@pytest.mark.parametrize("backend, num_envs", [pytest.param("reverb", 1, marks=pytest.mark.reverb),
                                               pytest.param("reverb-prioritized", 1, marks=pytest.mark.reverb),
                                               ("memory", 1), ("memory", 4)])
def test_a_killed_run_resumes_from_its_checkpoint_and_finishes(backend, num_envs, tmp_path):
    run_dir = tmp_path / "run"
    process = start_training(run_dir, backend, num_envs)
    deadline = time.monotonic() + 180
    while not (run_dir / "checkpoints" / "checkpoint").exists():
        assert process.poll() is None, "training exited before its first checkpoint"
        assert time.monotonic() < deadline, "no checkpoint within 180 s"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not (run_dir / "summary.json").exists()
    saved = loop_state(run_dir)
    with open(run_dir / "metrics.csv") as f:  # what the killed run had written up to its checkpoint
        before = [row for row in csv.DictReader(f) if int(row["env_steps"]) <= saved["env_steps"]]
    assert saved["env_steps"] >= 400 and saved["env_steps"] < 3000 and saved["replay_items"] > 0

    assert cli.main(["train", "cartpole", "--resume", str(run_dir)]) == 0

    resume = json.loads((run_dir / "resumes.json").read_text())["resumes"]
    assert resume == [{"env_steps": saved["env_steps"], "updates": saved["updates"],
                       "replay_items_saved": saved["replay_items"], "replay_items_loaded": saved["replay_items"]}]
    summary = json.loads((run_dir / "summary.json").read_text())
    # How far a mark can be passed. One env: every driver call takes exactly update_every counted steps (1 in
    # cartpole) and the warm-up exactly 200, so every mark is hit. A batch of n envs: a call runs whole batches until
    # it has counted m = ceil(update_every / n) * n steps, and a batch holding an episode's reset counts fewer than
    # n, so a call takes up to m - 1 + n steps; started below a mark, it ends at most m + n - 2 past it (6 for n = 4).
    per_call = -(-load_preset("cartpole").update_every // num_envs) * num_envs
    overshoot = 0 if num_envs == 1 else per_call + num_envs - 2
    assert 3000 <= summary["env_steps"] <= 3000 + overshoot and summary["updates"] == summary["env_steps"] - 200
    # The agent's train step counter came back too: the last checkpoint is at the last update, not that - saved.
    assert tf.train.latest_checkpoint(str(run_dir / "checkpoints")).endswith(f"ckpt-{summary['updates']}")
    with open(run_dir / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    steps = [int(row["env_steps"]) for row in rows]
    # every evaluation once, none lost or repeated, each at most `overshoot` past its mark (the warm-up's driver
    # passes learning_starts by at most n - 1)
    assert [step // 200 for step in steps] == list(range(1, 16)) and all(s % 200 <= overshoot for s in steps)
    assert_best_policy_is_the_best_evaluation(run_dir, rows, summary)
    # History is not rewritten: the rows up to the checkpoint come back with the same numbers (the one
    # at the checkpoint's step is evaluated again, from the same weights, and keeps its loss).
    same = ("env_steps", "updates", "eval_mean", "eval_std", "train_return", "epsilon", "loss")
    assert before and [{k: r[k] for k in same} for r in rows[:len(before)]] == [{k: r[k] for k in same} for r in before]


def assert_best_policy_is_the_best_evaluation(run_dir, rows, summary):
    """The best evaluation (ties: the later) over the whole run, the kill included, is what `best_policy/`
    scores on that evaluation's own episodes."""
    from tf_agents.policies import py_tf_eager_policy

    from tfa_custom_nets.training import evaluate, load_run_config

    means = [float(row["eval_mean"]) for row in rows]
    index = max(range(len(means)), key=lambda i: (means[i], i))
    assert (summary["best_eval_mean"], summary["best_eval_step"]) == (means[index], int(rows[index]["env_steps"]))
    config = load_run_config(run_dir / "config.json")
    policy = py_tf_eager_policy.SavedModelPyTFEagerPolicy(str(run_dir / "best_policy"), load_specs_from_pbtxt=True,
                                                          batch_time_steps=False)
    envs = [make_env(config.env) for _ in range(config.eval_episodes)]
    assert evaluate(policy, envs, config.eval_seed(index)).mean() == pytest.approx(means[index])


def test_resume_refuses_what_it_cannot_continue(tmp_path):
    with pytest.raises(ValueError, match="no config.json"):
        cli._train(cli.build_parser().parse_args(["train", "cartpole", "--resume", str(tmp_path)]))
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "checkpoints" / "ckpt-1_temp_x").mkdir(parents=True)  # a folder of the user's, not a run's
    with pytest.raises(ValueError, match=f"not marked as a tfa-nets run directory .*touch {tmp_path / RUN_MARKER}"):
        cli._train(cli.build_parser().parse_args(["train", "cartpole", "--resume", str(tmp_path)]))
    assert (tmp_path / "checkpoints" / "ckpt-1_temp_x").is_dir()  # left as it was
    (tmp_path / RUN_MARKER).write_text("")
    with pytest.raises(ValueError, match="no checkpoint yet"):
        cli._train(cli.build_parser().parse_args(["train", "cartpole", "--resume", str(tmp_path)]))
    (tmp_path / "summary.json").write_text("{}")
    with pytest.raises(ValueError, match="the run finished"):
        cli._train(cli.build_parser().parse_args(["train", "cartpole", "--resume", str(tmp_path)]))
    with pytest.raises(ValueError, match="drop --set"):
        cli._train(cli.build_parser().parse_args(["train", "cartpole", "--resume", str(tmp_path), "--seed", "3"]))


@pytest.mark.reverb
def test_reverb_keeps_only_its_newest_checkpoint_and_a_resume_takes_it(tmp_path):
    """A kill between the replay checkpoint and the agent's leaves the agent naming a replay checkpoint
    that Reverb has already replaced; the resume takes the newer one instead of failing."""
    import reverb

    from tfa_custom_nets import replay

    table = reverb.Table("t", sampler=reverb.selectors.Uniform(), remover=reverb.selectors.Fifo(), max_size=10,
                         rate_limiter=reverb.rate_limiters.MinSize(1), signature=tf.TensorSpec([], tf.float32))
    server = replay.start_server([table], checkpoint_dir=str(tmp_path))
    client = reverb.Client(f"localhost:{server.port}")
    first = replay.checkpoint_replay(client)
    client.insert(tf.constant(1.0), {"t": 1.0})
    second = replay.checkpoint_replay(client)
    server.stop()
    assert [p.name for p in tmp_path.iterdir()] == [second] and first != second
    assert replay.replay_checkpoint_to_resume(str(tmp_path), second) == second
    assert replay.replay_checkpoint_to_resume(str(tmp_path), first) == second
    with pytest.raises(ValueError, match="no other is there. Restore the run.s replay/ folder, or resume with --empty"):
        replay.replay_checkpoint_to_resume(str(tmp_path / "empty"), first)


def test_the_saved_random_states_replay_the_same_draws_in_rebuilt_envs_and_policy():
    """What a checkpoint's loop state keeps of the random streams (NumPy's and Python's global
    generators, every training env's generator, the ez-greedy policy's), restored after a JSON
    round trip into freshly built envs and policy as a resumed process builds them, gives the
    exact draws that followed the save."""
    spec = array_spec.BoundedArraySpec((), np.int64, 0, 4)

    def build(policy_seed):  # envs seeded as the run seeds them, not yet reset
        envs = [make_env(EnvConfig(id="CartPole-v1"), seed=seed) for seed in (1, 2)]
        return envs, EzGreedyPyPolicy(ConstantPolicy(spec, 0), epsilon=lambda: 0.5, mu=1.0, max_repeat=5,
                                      seed=policy_seed)

    def draws(envs, policy):
        actions = [int(policy.action(first() if i % 10 == 0 else mid()).action) for i in range(40)]
        observations = [env.reset().observation.tolist() for env in envs for _ in range(3)]
        return actions, observations, np.random.rand(3).tolist(), random.random()

    envs, policy = build(policy_seed=7)
    draws(envs, policy)  # the run goes on for a while before its checkpoint
    saved = json.loads(json.dumps(capture_rng_states(envs, policy)))
    after_save = draws(envs, policy)
    assert draws(*build(policy_seed=7)) != after_save  # a rebuilt run without the states draws otherwise

    resumed_envs, resumed_policy = build(policy_seed=99)
    restore_rng_states(saved, resumed_envs, resumed_policy)
    assert draws(resumed_envs, resumed_policy) == after_save
    assert len(set(after_save[0])) > 1 and len({tuple(o) for o in after_save[1]}) == 6


@pytest.fixture(scope="module")
def unfinished_run(tmp_path_factory):
    """A short memory run with checkpoints at 500, 1000, 1500 and 2000 env steps (the newest two kept),
    made resumable by removing what its finish wrote."""
    run_dir = tmp_path_factory.mktemp("unfinished") / "run"
    assert cli.main(["train", "cartpole", "--run-dir", str(run_dir), *sets_of(
        "total_env_steps=2000", "replay.learning_starts=200", "replay.batch_size=16", "eval_interval=500",
        "eval_episodes=2", "checkpoint_interval=500", "progress=False", "network.kwargs={'hidden_units': [8]}",
        "num_envs=1", "replay.backend='memory'")]) == 0
    for finished in ("summary.json", "policy", "best_policy"):
        path = run_dir / finished
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return run_dir


def copy_of(run_dir, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    return copy


@pytest.mark.slow
def test_a_truncated_newest_checkpoint_falls_back_to_the_one_before_and_says_so(unfinished_run, tmp_path, capsys):
    from tfa_custom_nets.training import load_run_config, train_eval

    run_dir = copy_of(unfinished_run, tmp_path)
    newest = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    data = next(Path(newest).parent.glob(Path(newest).name + ".data-*"))
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])  # a kill or a full disk mid-write
    (run_dir / "checkpoints" / "ckpt-9_temp").mkdir()  # and a half-written folder a kill left
    previous_state = json.loads(tf.train.load_checkpoint(
        tf.train.get_checkpoint_state(str(run_dir / "checkpoints")).all_model_checkpoint_paths[0]).get_tensor(
        "loop_state/.ATTRIBUTES/VARIABLE_VALUE"))

    summary = train_eval(load_run_config(run_dir / "config.json").replace(run_dir=str(run_dir)), resume=True)
    assert f"the newest checkpoint cannot be read ({Path(newest).name}:" in capsys.readouterr().err
    assert json.loads((run_dir / "resumes.json").read_text())["resumes"][-1]["env_steps"] == \
        previous_state["env_steps"] < 2000
    assert summary["env_steps"] == 2000 and not (run_dir / "checkpoints" / "ckpt-9_temp").exists()


def test_a_garbage_metrics_file_stops_the_resume_before_it_records_one(unfinished_run, tmp_path):
    from tfa_custom_nets.training import load_run_config, train_eval

    run_dir = copy_of(unfinished_run, tmp_path)
    (run_dir / "metrics.csv").write_text("not,a,metrics\nfile,at,all\n")
    resumes_before = (run_dir / "resumes.json").exists()
    with pytest.raises(ValueError, match=r"metrics.csv is not the metrics file this run wrote .*move it away"):
        train_eval(load_run_config(run_dir / "config.json").replace(run_dir=str(run_dir)), resume=True)
    assert (run_dir / "resumes.json").exists() == resumes_before  # no resume recorded that never happened
    (run_dir / "metrics.csv").unlink()  # moved away: the resume goes on without the earlier rows
    summary = train_eval(load_run_config(run_dir / "config.json").replace(run_dir=str(run_dir)), resume=True)
    assert summary["env_steps"] == 2000


def cli_command(*args):
    return [sys.executable, "-m", "tfa_custom_nets.cli", *args]


def sets_of(*assignments):
    return [part for assignment in assignments for part in ("--set", assignment)]


@pytest.mark.slow
def test_a_run_killed_before_its_first_checkpoint_is_refused_by_resume_and_started_again_in_place(tmp_path):
    run_dir = tmp_path / "run"
    process = subprocess.Popen(cli_command("train", "cartpole", "--run-dir", str(run_dir), *sets_of(
        *SETS, "replay.backend='memory'", "num_envs=1")), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while not (run_dir / "config.json").exists():  # written once the envs and agent are built
        assert process.poll() is None and time.monotonic() < deadline, "no config.json"
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not (run_dir / "checkpoints" / "checkpoint").exists() and (run_dir / "run.lock").exists()
    resumed = subprocess.run(cli_command("train", "cartpole", "--resume", str(run_dir)), capture_output=True,
                             text=True)
    assert resumed.returncode == 2 and "no checkpoint yet; start it again with the same --run-dir" in resumed.stderr
    again = subprocess.run(cli_command("train", "cartpole", "--run-dir", str(run_dir), *sets_of(
        *SETS, "total_env_steps=600", "replay.backend='memory'", "num_envs=1")), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert json.loads((run_dir / "summary.json").read_text())["env_steps"] == 600


@pytest.mark.slow
def test_a_kill_during_a_checkpoint_write_leaves_a_temp_folder_that_the_resume_removes(tmp_path):
    """The replay buffer is large enough (200k steps) that a checkpoint takes a while to write; once
    one checkpoint is complete, the process is killed the moment TensorFlow's `ckpt-N_temp` folder
    of a later one appears."""
    run_dir, checkpoints = tmp_path / "run", tmp_path / "run" / "checkpoints"
    process = subprocess.Popen(cli_command("train", "cartpole", "--run-dir", str(run_dir), *sets_of(
        *SETS, "replay.capacity=200000", "checkpoint_interval=100", "replay.backend='memory'", "num_envs=1")),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, caught = time.monotonic() + 240, []
    while not caught:
        assert process.poll() is None, "the run ended without a checkpoint write being caught"
        assert time.monotonic() < deadline, "no checkpoint write caught within 240 s"
        with contextlib.suppress(FileNotFoundError):  # a write after the first checkpoint: one to go back to
            names = os.listdir(checkpoints)
            caught = [name for name in names if "_temp" in name] if "checkpoint" in names else []
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert any((checkpoints / name).exists() for name in caught)  # the half-written folder the kill left
    resumed = subprocess.run(cli_command("train", "cartpole", "--resume", str(run_dir)), capture_output=True,
                             text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert not [p for p in checkpoints.iterdir() if "_temp" in p.name]
    assert json.loads((run_dir / "summary.json").read_text())["env_steps"] == 3000


@pytest.mark.slow
def test_a_full_disk_at_a_checkpoint_names_the_path_and_the_space_and_the_previous_checkpoint_resumes(
        unfinished_run, tmp_path):
    """The file-size limit (RLIMIT_FSIZE) makes the checkpoint write fail as a full disk does
    (EFBIG instead of ENOSPC, the same path through TensorFlow's file layer)."""
    import resource

    run_dir = copy_of(unfinished_run, tmp_path)
    newest = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    size = sum(p.stat().st_size for p in Path(newest).parent.glob(Path(newest).name + ".*"))
    assert size > 2**20

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (2**20 // 2, 2**20 // 2))

    full = subprocess.run(cli_command("train", "cartpole", "--resume", str(run_dir)), capture_output=True, text=True,
                          preexec_fn=small_files)
    assert full.returncode == 1
    line = full.stderr.strip().splitlines()[-1]
    assert re.search(rf"cannot write {re.escape(str(run_dir))}/checkpoints/ckpt-\S+: a file grew past the size "
                     rf"limit \(\d+ MiB free there; one checkpoint of this run takes about "
                     rf"{size / 2**20:.1f} MiB\)\. The previous checkpoint stays usable.* --resume", line), line
    assert "error.txt" in line and tf.train.latest_checkpoint(str(run_dir / "checkpoints")) == newest
    resumed = subprocess.run(cli_command("train", "cartpole", "--resume", str(run_dir)), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((run_dir / "summary.json").read_text())["env_steps"] == 2000


@pytest.mark.parametrize("error, expected", [
    (OSError(errno.EROFS, "Read-only file system", "/data/run/metrics.csv"),
     "cannot write /data/run/metrics.csv: the file system is read-only"),
    (PermissionError(errno.EACCES, "Permission denied", "/data/run/config.json"),
     "cannot write /data/run/config.json: permission denied"),
    (tf.errors.ResourceExhaustedError(None, None, "/data/run/checkpoints/ckpt-3_temp/part-0; No space left on device"),
     "cannot write /data/run/checkpoints/ckpt-3_temp/part-0: no space left on the device"),
    (OSError(errno.ENOENT, "No such file or directory", "/data/x"), None),
    (tf.errors.InvalidArgumentError(None, None, "Incompatible shapes"), None),
    (ValueError("No space left on device"), None)])
def test_storage_failures_are_told_apart_from_other_errors(error, expected, tmp_path):
    from tfa_custom_nets.training import storage_failure

    message = storage_failure(error, tmp_path)
    assert message == expected if expected is None else message.startswith(expected + " (")
    if expected is not None:
        assert "no checkpoint written yet" in message and message.endswith(f"--resume {tmp_path}.")


@pytest.fixture(scope="module")
def unfinished_reverb_run(tmp_path_factory):
    """A uniform Reverb run that stopped at env step 1000 of what its config.json now says is 1600."""
    run_dir = tmp_path_factory.mktemp("unfinished_reverb") / "run"
    assert cli.main(["train", "cartpole", "--run-dir", str(run_dir), "--set", "replay.backend='reverb'", *sets_of(
        *SETS, "num_envs=1", "total_env_steps=1000", "checkpoint_interval=500")]) == 0
    for finished in ("summary.json", "policy", "best_policy"):
        path = run_dir / finished
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    config = json.loads((run_dir / "config.json").read_text())
    config["total_env_steps"] = 1600  # the config is data: a longer run is one edited number
    (run_dir / "config.json").write_text(json.dumps(config))
    return run_dir


@pytest.mark.slow
@pytest.mark.reverb
def test_a_lost_reverb_replay_is_refused_with_the_fix_and_empty_replay_refills_it(unfinished_reverb_run, tmp_path,
                                                                                   capsys):
    run_dir = copy_of(unfinished_reverb_run, tmp_path)
    saved = loop_state(run_dir)
    shutil.rmtree(run_dir / "replay")
    assert cli.main(["train", "cartpole", "--resume", str(run_dir)]) == 2
    assert "or resume with --empty-replay" in capsys.readouterr().err
    assert cli.main(["train", "cartpole", "--resume", str(run_dir), "--empty-replay"]) == 0
    resume = json.loads((run_dir / "resumes.json").read_text())["resumes"][-1]
    assert resume["replay_items_saved"] == saved["replay_items"] > 0 and resume["replay_items_loaded"] == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    # 200 random steps refill the replay and make no updates due; the other 400 make one update each
    assert (saved["env_steps"], summary["env_steps"]) == (1000, 1600)
    assert summary["updates"] == saved["updates"] + 400 == 1200
    assert loop_state(run_dir)["refill_steps"] == 200


@pytest.mark.slow
@pytest.mark.reverb
def test_empty_replay_moves_a_present_replay_aside_and_is_refused_where_it_means_nothing(unfinished_reverb_run,
                                                                                         unfinished_run, tmp_path,
                                                                                         capsys):
    run_dir = copy_of(unfinished_reverb_run, tmp_path)
    kept = sorted(p.name for p in (run_dir / "replay").iterdir())
    assert cli.main(["train", "cartpole", "--resume", str(run_dir), "--empty-replay"]) == 0
    assert sorted(p.name for p in (run_dir / "replay.set-aside-1").iterdir()) == kept
    assert json.loads((run_dir / "resumes.json").read_text())["resumes"][-1]["replay_items_loaded"] == 0
    capsys.readouterr()
    memory = tmp_path / "memory"
    shutil.copytree(unfinished_run, memory)
    assert cli.main(["train", "cartpole", "--resume", str(memory), "--empty-replay"]) == 2
    assert "replay is in memory and saved inside its checkpoint" in capsys.readouterr().err
    assert cli.main(["train", "cartpole", "--empty-replay"]) == 2
    assert "--empty-replay applies to a resume" in capsys.readouterr().err
