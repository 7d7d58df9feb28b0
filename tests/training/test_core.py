"""What the training core promises a user: a memory run needs no Reverb, the default run opens no
port and prints no C++ log lines, a run directory still evaluates and resumes after a move, and
importing the package registers the demo env."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tiny import cli_sets, tiny_sets

REPO = Path(__file__).resolve().parents[2]
TFA_NETS = str(Path(sys.executable).with_name("tfa-nets"))
SHORT = cli_sets(tiny_sets({"total_env_steps": 3000, "eval_interval": 1500, "checkpoint_interval": 1500,
                            "progress": None}))  # the progress bar on, as make train runs


def python(code: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_memory_run_trains_where_reverb_cannot_be_imported(tmp_path):
    code = f"""
import sys
sys.modules["reverb"] = None  # `import reverb` raises ImportError from here on, as where dm-reverb is missing
import tfa_custom_nets, tfa_custom_nets.networks, tfa_custom_nets.agents, tfa_custom_nets.envs, tfa_custom_nets.replay
from tfa_custom_nets.training import TrainConfig, override, train_eval
config = override(TrainConfig(), ["total_env_steps=600", "replay.learning_starts=200", "replay.batch_size=16",
                                  "eval_interval=600", "eval_episodes=2", "progress=False",
                                  "network.kwargs={{'hidden_units': [8]}}", "run_dir={str(tmp_path / 'run')!r}"])
summary = train_eval(config)
print("trained", summary["env_steps"], summary["updates"])
try:
    tfa_custom_nets.replay.ReverbReplay
except ImportError:
    print("reverb names fail only when used")
"""
    result = python(code, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == ["trained 600 100", "reverb names fail only when used"]


@pytest.mark.slow
def test_what_needs_reverb_is_refused_up_front_where_it_is_missing_and_names_the_stack_that_has_it(tmp_path):
    """As on the modern stack (no dm-reverb wheel): prioritized replay, the Reverb backend and the
    distributed roles each end in one fix-it line, exit code 2, and no run directory."""
    code = f"""
import sys
sys.modules["reverb"] = None  # `import reverb` raises ImportError from here on, as where dm-reverb is missing
from tfa_custom_nets import cli
for args in (["train", "cartpole_prioritized"], ["train", "cartpole_reverb"], ["launch", "cartpole"],
             ["replay-server", "--config", "cartpole"]):
    print(cli.main([*args, "--run-dir", {str(tmp_path / "run")!r}] if args[0] != "replay-server" else args))
"""
    result = python(code, tmp_path)
    assert result.stdout.split() == ["2", "2", "2", "2"], result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    stack = "needs dm-reverb, which is not installed here: it exists only for the current stack (Python 3.9-3.11"
    assert lines[0].startswith(f"tfa-nets: error: replay.prioritized=True {stack}")
    assert lines[1].startswith(f"tfa-nets: error: replay.backend='reverb' {stack}")
    assert lines[1].endswith("Fix: --set replay.backend='memory' (or 'auto').")
    assert all(line.startswith(f"tfa-nets: error: the distributed roles (replay server, actors, learner, launch) "
                               f"{stack}") for line in lines[2:]) and len(lines) == 4
    assert not (tmp_path / "run").exists()


def listening_sockets(pid: int) -> set[str]:
    """Inodes of the TCP sockets process `pid` holds open in the LISTEN state."""
    held = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            held.add(target[8:-1])
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if os.path.exists(table):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A":  # TCP_LISTEN
                    listening.add(fields[9])
    return held & listening


CPP_LOG = re.compile(r"^\[reverb/|^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] |^[IWEF]\d{4} \d\d:\d\d:\d\d")


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads open sockets from Linux's /proc")
@pytest.mark.parametrize("backend", ["auto", pytest.param("reverb", marks=pytest.mark.reverb)])
def test_the_default_run_opens_no_port_and_prints_no_cpp_log_lines(backend, tmp_path):
    """`tfa-nets train cartpole` as `make train` runs it (progress bar on), watched while it trains;
    asking for Reverb shows what the check catches."""
    process = subprocess.Popen([TFA_NETS, "train", "cartpole", "--run-dir", str(tmp_path / "run"), *SHORT,
                                "--set", f"replay.backend={backend!r}"], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    seen, polls = set(), 0
    while process.poll() is None:
        try:
            seen |= listening_sockets(process.pid)
            polls += 1
        except FileNotFoundError:  # the process exited between the poll and the read
            break
        time.sleep(0.1)
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-3000:]
    assert polls > 20  # watched through the run, not only its start
    log_lines = [line for line in re.split(r"[\r\n]", stderr) if CPP_LOG.match(line)]
    if backend == "auto":
        assert not seen, "the default run listened on a port"
        assert not log_lines, log_lines[:5]
        assert "cartpole:" in stderr and "it/s" not in stdout  # the bar is there, on stderr
        assert stdout.startswith(f"run directory: {tmp_path / 'run'}\n")
    else:
        assert seen and log_lines  # Reverb's server listens and logs: the checks above can fail


USER_PRESET = '''
import dataclasses
from pathlib import Path

import gymnasium as gym

from tfa_custom_nets.training import load_preset


def make_env(env_id, **make_kwargs):
    return gym.make(env_id, **make_kwargs)


BASE = load_preset("mountaincar")
CONFIG = dataclasses.replace(BASE, name="my_mountaincar",
                             env=dataclasses.replace(BASE.env, make=f"{Path(__file__).resolve()}:make_env"))
'''


@pytest.mark.slow
def test_a_moved_run_directory_evaluates_and_resumes(tmp_path):
    """A user's preset names its env factory by file: the run keeps a copy and names it relatively."""
    run_dir, moved = tmp_path / "a" / "run", tmp_path / "elsewhere" / "run"
    (tmp_path / "mine").mkdir()
    preset = tmp_path / "mine" / "experiment.py"
    preset.write_text(USER_PRESET)
    sets = ["--set", "total_env_steps=1200", "--set", "replay.learning_starts=200", "--set", "eval_interval=600",
            "--set", "eval_episodes=2", "--set", "checkpoint_interval=600", "--set", "progress=False",
            "--set", "network.kwargs={'hidden_units': [8]}"]
    result = subprocess.run([TFA_NETS, "train", str(preset), "--run-dir", str(run_dir), *sets], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    config_text = (run_dir / "config.json").read_text()
    assert str(REPO) not in config_text and str(tmp_path) not in config_text.replace(str(run_dir), "")
    config = json.loads(config_text)
    assert config["env"]["make"] == "sources/mine__experiment.py:make_env"
    assert (run_dir / "sources" / "mine__experiment.py").read_text() == USER_PRESET

    moved.parent.mkdir()
    shutil.move(str(run_dir), str(moved))
    result = subprocess.run([TFA_NETS, "eval", str(moved), "--episodes", "2"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["eval_mean"] >= -200

    for finished in ("summary.json", "policy", "best_policy"):  # as if killed after its last checkpoint
        shutil.rmtree(moved / finished) if (moved / finished).is_dir() else (moved / finished).unlink()
    result = subprocess.run([TFA_NETS, "train", str(preset), "--resume", str(moved)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((moved / "summary.json").read_text())
    assert summary["env_steps"] == 1200 and summary["run_dir"] == str(moved)
    assert (moved / "best_policy" / "saved_model.pb").exists()


@pytest.mark.slow
def test_importing_the_package_registers_the_robot_arm_env(tmp_path):
    result = python("import tfa_custom_nets, gymnasium\n"
                    "env = gymnasium.make('tfa_custom_nets/RobotArm-v0')\n"
                    "print(env.action_space)", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().startswith("MultiDiscrete(")


OUTSIDE_FACTORY = '''
from pathlib import Path

import gymnasium as gym


def make_env(env_id, **make_kwargs):
    Path(__file__).with_name("factory_ran").write_text("yes")
    return gym.make(env_id, **make_kwargs)
'''


@pytest.mark.slow
def test_a_run_directory_runs_no_code_it_does_not_hold_unless_trusted(tmp_path):
    """A run directory is data: an edited config.json that names `os:system` (or a file elsewhere)
    is refused by `eval` and `--resume` before anything is imported; `--trust-config` loads it."""
    from tfa_custom_nets.training import TrainConfig, override, train_eval

    run_dir = tmp_path / "run"
    train_eval(override(TrainConfig(), ["total_env_steps=300", "replay.learning_starts=200", "eval_interval=300",
                                        "eval_episodes=2", "progress=False", "network.kwargs={'hidden_units': [8]}",
                                        f"run_dir={str(run_dir)!r}"]))
    config = json.loads((run_dir / "config.json").read_text())
    marker = tmp_path / "pwned"

    def edited(**env):
        (run_dir / "config.json").write_text(json.dumps({**config, "env": {**config["env"], **env}}))

    def tfa_nets(*args):
        return subprocess.run([TFA_NETS, *args], cwd=tmp_path, capture_output=True, text=True, timeout=300)

    edited(make="os:system", id=f"touch {marker}")
    for command in (["eval", str(run_dir)], ["replay-server", "--config", str(run_dir / "config.json")]):
        result = tfa_nets(*command)
        assert result.returncode == 2 and "names code outside its run directory's sources/" in result.stderr
        assert "env.make = 'os:system'" in result.stderr and "--trust-config" in result.stderr
    assert not marker.exists()

    (tmp_path / "outside.py").write_text(OUTSIDE_FACTORY)
    edited(make=str(tmp_path / "outside.py") + ":make_env", id="CartPole-v1")
    result = tfa_nets("eval", str(run_dir), "--episodes", "1")
    assert result.returncode == 2 and "outside.py:make_env" in result.stderr
    assert not (tmp_path / "factory_ran").exists()
    result = tfa_nets("eval", str(run_dir), "--episodes", "1", "--trust-config")
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "factory_ran").read_text() == "yes"
