"""Faults at the edges of a run end in one clear message, an exit code, and a run that can go on:
Ctrl-C, a failure mid-run, a failure before the run directory exists, a run that never reached its
first checkpoint, two runs claiming one directory."""

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tiny import cli_sets, tiny_sets
from tfa_custom_nets.training import RUN_LOCK, RUN_MARKER, make_run_dir

TFA_NETS = str(Path(sys.executable).with_name("tfa-nets"))
SMALL = cli_sets(tiny_sets({"total_env_steps": None, "replay.learning_starts": None, "replay.batch_size": None,
                             "replay.capacity": None, "eval_interval": None, "checkpoint_interval": None,
                             "progress": None, "network.kwargs": {'hidden_units': [16]}}))

FAILING_ENV = '''
import gymnasium as gym


class FailsAt(gym.Wrapper):
    """CartPole that raises `error` at its `at`-th step overall."""

    def __init__(self, env, at, error):
        super().__init__(env)
        self.at, self.error, self.steps = at, error, 0

    def step(self, action):
        self.steps += 1
        if self.steps == self.at:
            raise {"runtime": RuntimeError, "value": ValueError}[self.error](f"the env broke at step {self.at}")
        return self.env.step(action)


def make_env(env_id, at=10**9, error="runtime"):
    return FailsAt(gym.make(env_id), at, error)
'''


def tfa_nets(*args, cwd, timeout=300):
    return subprocess.run([TFA_NETS, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_says_how_to_resume_and_exits_130(tmp_path):
    run_dir = tmp_path / "run"
    process = subprocess.Popen(
        [TFA_NETS, "train", "cartpole_reverb", "--run-dir", str(run_dir), *SMALL, "--set", "replay.backend='memory'",
         "--set", "total_env_steps=6000", "--set", "replay.learning_starts=500", "--set", "eval_interval=1000",
         "--set", "checkpoint_interval=100000", "--set", "progress=False"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while not (run_dir / "metrics.csv").exists() or len((run_dir / "metrics.csv").read_text().splitlines()) < 2:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()[1][-3000:]
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)  # what Ctrl-C sends; no checkpoint was due before step 100000
    start = time.monotonic()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and time.monotonic() - start < 30, stderr[-3000:]
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("tfa-nets: interrupted at env step ") and \
        last.endswith(f"tfa-nets train cartpole_reverb --resume {run_dir}")
    assert (run_dir / "checkpoints" / "checkpoint").exists() and not (run_dir / RUN_LOCK).exists()

    result = tfa_nets("train", "cartpole_reverb", "--resume", str(run_dir), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    interrupted_at = int(last.split("env step ")[1].split(":")[0])
    assert json.loads((run_dir / "resumes.json").read_text())["resumes"][0]["env_steps"] == interrupted_at
    assert json.loads((run_dir / "summary.json").read_text())["env_steps"] == 6000


@pytest.mark.slow
def test_a_second_ctrl_c_while_the_first_is_saving_still_leaves_a_checkpoint_and_the_right_message(tmp_path):
    run_dir = tmp_path / "run"
    process = subprocess.Popen(
        [TFA_NETS, "train", "cartpole", "--run-dir", str(run_dir), *SMALL, "--set", "total_env_steps=200000",
         "--set", "replay.learning_starts=500", "--set", "eval_interval=1000", "--set", "checkpoint_interval=1000000",
         "--set", "progress=False"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while not (run_dir / "metrics.csv").exists() or len((run_dir / "metrics.csv").read_text().splitlines()) < 2:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()[1][-3000:]
        time.sleep(0.05)
    for _ in range(3):  # as an impatient user (or a terminal that signals the whole process group twice)
        process.send_signal(signal.SIGINT)
        time.sleep(0.02)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr[-3000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("tfa-nets: interrupted at env step ") and "--resume" in last, stderr[-3000:]
    assert (run_dir / "checkpoints" / "checkpoint").exists()


def test_a_bare_interrupt_outside_the_loop_says_what_the_directory_holds(tmp_path):
    from tfa_custom_nets.training import guarded_run_dir, make_run_dir

    run_dir = make_run_dir(str(tmp_path / "run"), "CartPole-v1", "x", 0)
    with pytest.raises(KeyboardInterrupt, match="saved nothing, and .* holds no checkpoint: start it again"):
        with guarded_run_dir(run_dir):
            raise KeyboardInterrupt
    (run_dir / "checkpoints").mkdir()
    (run_dir / "checkpoints" / "checkpoint").write_text("")
    with pytest.raises(KeyboardInterrupt, match="holds its last checkpoint: continue with --resume"):
        with guarded_run_dir(run_dir):
            raise KeyboardInterrupt


@pytest.mark.slow
def test_ctrl_c_in_the_warm_up_saves_nothing_and_the_directory_can_be_started_again(tmp_path):
    run_dir = tmp_path / "run"
    args = ["train", "cartpole", "--run-dir", str(run_dir), *SMALL, "--set", "total_env_steps=3000",
            "--set", "eval_interval=1500", "--set", "progress=False"]
    process = subprocess.Popen([TFA_NETS, *args[:-2], "--set", "replay.learning_starts=2000000",
                                "--set", "total_env_steps=2000000", "--set", "replay.capacity=2000000"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not (run_dir / "config.json").exists():
        assert process.poll() is None, process.communicate()[1][-3000:]
        time.sleep(0.05)
    time.sleep(2)  # inside the random warm-up
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr[-3000:]
    assert ("interrupted during the warm-up, before any checkpoint: start it again" in stderr  # the usual case
            or "this interruption saved nothing" in stderr and "no checkpoint: start it again" in stderr)  # building
    assert not (run_dir / "checkpoints" / "checkpoint").exists()

    result = tfa_nets(*args, cwd=tmp_path)  # the same command takes the directory over
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((run_dir / "config.json").read_text())["total_env_steps"] == 3000


@pytest.mark.slow
def test_a_failure_mid_run_is_one_line_with_the_run_dir_and_a_kept_traceback_and_the_run_restarts(tmp_path):
    (tmp_path / "failing.py").write_text(FAILING_ENV)
    run_dir = tmp_path / "run"
    common = ["train", "cartpole", "--run-dir", str(run_dir), *SMALL, "--set", "total_env_steps=2000",
              "--set", "eval_interval=1000", "--set", "progress=False", "--set", "env.make='failing.py:make_env'",
              "--set", "num_envs=1"]  # the failing env counts its own steps
    result = tfa_nets(*common, "--set", "env.make_kwargs={'at': 700}", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"tfa-nets: error: RuntimeError: the env broke at step 700 (run directory {run_dir}); full traceback in "
        f"{run_dir / 'logs' / 'error.txt'}"]
    assert "Traceback (most recent call last)" in (run_dir / "logs" / "error.txt").read_text()
    assert not (run_dir / RUN_LOCK).exists()

    # It failed before its first checkpoint: the same directory takes a new run.
    result = tfa_nets(*common, "--set", "env.make_kwargs={'at': 1900, 'error': 'value'}", cwd=tmp_path)
    assert result.returncode == 2  # a ValueError from inside the run: still one line, still kept
    assert result.stderr.strip().splitlines()[-1].startswith("tfa-nets: error: the env broke at step 1900")
    result = tfa_nets(*common, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (run_dir / "logs").exists()  # the failed runs' files went with the restart


@pytest.mark.slow
@pytest.mark.parametrize("sets, message", [
    (["env.id='NoSuchEnv-v0'"], "env.id 'NoSuchEnv-v0': Environment `NoSuchEnv` doesn't exist."),
    (["env.id='Pendulum-v1'"], "continuous (Box) action"),
    (["agent.kind='bdq'"], "'bdq' needs a MultiDiscrete (D,) action"),
])
def test_what_can_be_checked_is_checked_before_the_run_directory_exists(sets, message, tmp_path):
    result = tfa_nets("train", "cartpole", "--run-dir", str(tmp_path / "never"),
                      *[arg for s in sets for arg in ("--set", s)], cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr, result.stderr[-2000:]
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "never").exists()


def test_a_directory_holding_a_run_is_never_taken(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / RUN_MARKER).write_text("")
    (run_dir / "config.json").write_text("{}")
    (run_dir / "summary.json").write_text("{}")
    with pytest.raises(FileExistsError, match="already holds a run"):
        make_run_dir(str(run_dir), "CartPole-v1", "x", 0)
    assert not (run_dir / RUN_LOCK).exists()  # refused: the claim is given back


def _claim(run_dir, barrier, results):
    barrier.wait()
    try:
        make_run_dir(run_dir, "CartPole-v1", "x", 0)
        results.put("claimed")
        time.sleep(2)  # hold it while the other one tries
    except FileExistsError as error:
        results.put(str(error))


@pytest.mark.slow
def test_two_runs_started_into_one_directory_at_once_one_wins(tmp_path):
    run_dir = str(tmp_path / "run")
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    processes = [context.Process(target=_claim, args=(run_dir, barrier, results)) for _ in range(2)]
    for process in processes:
        process.start()
    outcomes = sorted(results.get(timeout=60) for _ in processes)
    for process in processes:
        process.join(30)
    assert outcomes[0] == "claimed" and "is in use by process" in outcomes[1], outcomes


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / RUN_LOCK).write_text(dead)
    assert make_run_dir(str(run_dir), "CartPole-v1", "x", 0) == run_dir
    assert (run_dir / RUN_LOCK).read_text() == str(os.getpid())


@pytest.mark.parametrize("held", [["config.json"], ["config.json", "notes.txt"], ["config.json", "src/"],
                                  ["README.md"], ["config.json", "checkpoints/"]])
def test_a_folder_that_is_not_a_run_of_ours_is_refused_and_left_as_it_was(held, tmp_path):
    """A project folder with a config.json (or anything else) is never taken for a failed run and cleared."""
    folder = tmp_path / "project"
    folder.mkdir()
    for name in held:
        (folder / name.rstrip("/")).mkdir() if name.endswith("/") else (folder / name).write_text("keep me")
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(FileExistsError, match=f"not a tfa-nets run directory \\(no {RUN_MARKER}\\).*Name a new"):
        make_run_dir(str(folder), "CartPole-v1", "x", 0)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert all((folder / n).read_text() == "keep me" for n in held if not n.endswith("/"))


def test_a_failed_run_of_ours_restarts_in_place_removing_only_what_a_run_writes(tmp_path):
    run_dir = make_run_dir(str(tmp_path / "run"), "CartPole-v1", "x", 0)
    assert (run_dir / RUN_MARKER).is_file()
    for name in ("config.json", "metrics.csv"):
        (run_dir / name).write_text("{}")
    (run_dir / "logs").mkdir()
    (run_dir / RUN_LOCK).unlink()  # the run died
    assert make_run_dir(str(run_dir), "CartPole-v1", "x", 0) == run_dir
    assert sorted(p.name for p in run_dir.iterdir()) == sorted([RUN_MARKER, RUN_LOCK])
    # The same failed run with a file of the user's beside it: refused, nothing removed.
    (run_dir / "config.json").write_text("{}")
    (run_dir / "my_notes.txt").write_text("mine")
    (run_dir / RUN_LOCK).unlink()
    with pytest.raises(FileExistsError, match="my_notes.txt, which no run writes"):
        make_run_dir(str(run_dir), "CartPole-v1", "x", 0)
    assert (run_dir / "my_notes.txt").read_text() == "mine" and (run_dir / "config.json").exists()


def test_a_run_directory_path_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(FileExistsError, match="is a file, not a directory"):
        make_run_dir(str(tmp_path / "taken"), "CartPole-v1", "x", 0)
    assert (tmp_path / "taken").read_text() == "a file"


@pytest.mark.slow
def test_the_cli_refuses_a_project_folder_as_run_dir_with_one_line(tmp_path):
    (tmp_path / "config.json").write_text('{"mine": true}')
    (tmp_path / "train.py").write_text("print('mine')")
    result = tfa_nets("train", "cartpole", "--run-dir", ".", *SMALL, cwd=tmp_path)
    assert result.returncode == 2 and "not a tfa-nets run directory" in result.stderr, result.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "train.py"]
