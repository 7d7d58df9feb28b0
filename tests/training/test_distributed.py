"""Replay server, actors and learner: weights through the variable container, the rate limiter's
ratio, and a launched run that loses an actor to SIGKILL and still finishes."""

import csv
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from tests.conftest import NO_REVERB
from tests.tiny import tiny_sets

pytest.importorskip("reverb", reason=NO_REVERB)  # every test here runs Reverb servers

import tensorflow as tf  # noqa: E402
from tf_agents.experimental.distributed import reverb_variable_container  # noqa: E402

from tests.training.test_resume import loop_state
from tfa_custom_nets import replay
from tfa_custom_nets.distributed import VARIABLES_TABLE, Role, check_distributable, make_tables
from tfa_custom_nets.training import load_preset, override

pytestmark = pytest.mark.reverb  # Reverb tables throughout

SMALL = tiny_sets({"replay.batch_size": 4, "replay.learning_starts": 8, "replay.capacity": 100, "update_every": 2,
                   "network.kwargs": {'hidden_units': [8]}})


def small_config(*sets):
    return override(load_preset("cartpole_reverb"), [*SMALL, *sets])


@pytest.fixture
def server_and_learner():
    config = small_config()
    role = Role(config, seed=1)
    server = replay.start_server(make_tables(config, role.agent, role.shared))
    yield config, role.agent, role.shared, f"localhost:{server.port}"
    server.stop()


def test_actor_pulls_the_learners_weights_into_its_own_variables(server_and_learner):
    config, learner_agent, learner_state, address = server_and_learner
    actor = Role(config, seed=2)
    actor_agent, actor_epsilon, actor_state = actor.agent, actor.epsilon, actor.shared
    learner_vars = learner_agent.policy.variables()
    actor_vars = actor_agent.policy.variables()
    assert not all(np.allclose(a.numpy(), b.numpy()) for a, b in zip(learner_vars, actor_vars))

    learner_state.env_steps.assign(10_000)  # past epsilon's decay: the actor's epsilon follows
    learner_state.max_priority.assign(3.5)
    learner_agent.train_step_counter.assign(42)
    container = reverb_variable_container.ReverbVariableContainer(address, [VARIABLES_TABLE])
    container.push(learner_state.nest)
    container.update(actor_state.nest)

    for a, b in zip(learner_vars, actor_vars):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert a is not b
    assert int(actor_agent.train_step_counter.numpy()) == 42
    assert float(actor_state.max_priority.numpy()) == 3.5
    assert float(actor_epsilon()) == pytest.approx(config.agent.epsilon_end)
    assert int(actor_state.finished.numpy()) == 0
    # Independent copies: moving the learner's weights does not move the actor's until the next pull.
    learner_vars[0].assign_add(tf.ones_like(learner_vars[0]))
    assert not np.allclose(learner_vars[0].numpy(), actor_vars[0].numpy())


def test_the_rate_limiter_holds_the_learner_to_batch_size_over_update_every_samples_per_insert(
        server_and_learner):
    import reverb

    config, agent, _, address = server_and_learner
    client = reverb.Client(address)
    observer = replay.make_observer(client, agent.collect_data_spec, table_name=replay.table_name(config))
    step = tf.nest.map_structure(lambda s: np.zeros(s.shape, s.dtype.as_numpy_dtype), agent.collect_data_spec)
    # samples_per_insert = batch_size / update_every = 2, with an error buffer of a warm-up's worth
    # (2 * 8 samples): inserts may run 2 * 8 items ahead of the first sample, and wait there.
    for _ in range(17):  # one 17-step episode: 16 transitions, all the limiter takes before sampling
        observer(step._replace(step_type=np.int32(1)))
    observer.flush()
    assert client.server_info()[replay.table_name(config)].current_size == 16

    # 16 items allow 32 samples; the 33rd waits for inserts (and times out here).
    dataset = reverb.TrajectoryDataset.from_table_signature(address, replay.table_name(config),
                                                           max_in_flight_samples_per_worker=1,
                                                           rate_limiter_timeout_ms=500)
    assert sum(1 for _ in dataset) == 32


def test_distributed_runs_refuse_the_memory_backend():
    with pytest.raises(ValueError, match="replay.backend='reverb'"):
        check_distributable(small_config("replay.backend='memory'"))


def test_distributed_runs_refuse_sac():
    config = override(load_preset("pendulum_sac"), ["replay.backend='reverb'"])
    with pytest.raises(ValueError, match=r"agent.kind='sac'. Fix: tfa-nets train pendulum_sac \(one process\)"):
        check_distributable(config)


def test_distributed_runs_refuse_ppo():  # on-policy: no replay server could serve it
    config = override(load_preset("robot_arm_ppo"), ["replay.backend='reverb'"])
    with pytest.raises(ValueError, match=r"agent.kind='ppo'. Fix: tfa-nets train robot_arm_ppo \(one process\)"):
        check_distributable(config)


LAUNCH_SETS = tiny_sets({"total_env_steps": 3000, "replay.learning_starts": 300, "replay.batch_size": 32,
                         "update_every": 1, "eval_interval": 1500, "checkpoint_interval": 1000,
                         "replay.capacity": None, "progress": None, "network.kwargs": {'hidden_units': [32]}})


class Launch:
    """`tfa-nets launch cartpole --actors 2` in a subprocess, its output read line by line; `on_line`
    is called with each line (and this object: its `pids` by role are known from the launcher's lines)."""

    def __init__(self, run_dir, on_line=None, resume=False, sets=()):
        command = [sys.executable, "-m", "tfa_custom_nets.cli", "launch"]
        if resume:
            command += ["--resume", str(run_dir)]
        else:
            command += ["cartpole_reverb", "--actors", "2", "--seed", "3", "--run-dir", str(run_dir)]
            for assignment in [*LAUNCH_SETS, *sets]:
                command += ["--set", assignment]
        command += ["--report-seconds", "0.5", "--pull-every", "50", "--push-every", "50"]
        self.lines, self.pids, self.on_line = [], {}, on_line
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        bufsize=1)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip())
            started = re.match(r"\[launch\] (.+) started \(pid (\d+)\)", line)
            if started:
                self.pids[started.group(1)] = int(started.group(2))
            if self.on_line is not None:
                self.on_line(line, self)

    def wait(self, timeout=480):
        try:
            self.process.wait(timeout=timeout)
        finally:
            self.process.kill()
            self.reader.join(10)
            self.process.stdout.close()
        return self.process.returncode

    @property
    def output(self):
        return "\n".join(self.lines)


@pytest.mark.slow
def test_a_launched_run_loses_an_actor_to_sigkill_and_finishes(tmp_path):
    run_dir = tmp_path / "run"
    killed = {}

    def kill_actor_1_once_it_collects(line, launch):
        progress = re.match(r"\[actor 1\] actor 1 progress: (\{.*\})", line)
        if progress and not killed:
            killed.update(json.loads(progress.group(1)))
            os.kill(launch.pids["actor 1"], signal.SIGKILL)

    # 6k env steps, not 3k: the restarted actor (a new process importing TensorFlow) must join before the
    # learner finishes, also on a loaded machine (at 3k it once came too late to log a life under xdist).
    launch = Launch(run_dir, kill_actor_1_once_it_collects, sets=["total_env_steps=6000", "eval_interval=3000"])
    launch.wait()
    output = launch.output
    assert launch.process.returncode == 0, output[-3000:]
    assert killed and killed["learner_updates"] < 5700, output[-3000:]  # the kill came before the last update
    assert "[launch] actor 1 was killed by SIGKILL" in output and "restarting it (restart 1 of 3)" in output

    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["updates"] == 5700 and summary["env_steps"] == 6000
    # The rate limiter: never more than one update per inserted item (update_every=1), and the actors
    # never more than a warm-up's worth of items (plus the learner's samples in flight) ahead.
    assert 5700 <= summary["replay_items_inserted"] <= 6000 + 300 + 64
    with open(run_dir / "metrics.csv") as f:
        assert [int(row["env_steps"]) for row in csv.DictReader(f)] == [3000, 6000]
    for name in ("config.json", "learning_curve.png", "policy/saved_model.pb", "checkpoints/checkpoint",
                 "logs/learner.log", "logs/replay.log"):
        assert (run_dir / name).exists(), name
    assert tf.train.latest_checkpoint(str(run_dir / "checkpoints")).endswith("ckpt-5700")
    assert [p.name for p in (run_dir / "replay").iterdir() if p.is_dir()], "no Reverb checkpoint"

    def contributions(actor):
        """Each life of the actor: its seed and the env steps it reported last."""
        lives = []
        for line in (run_dir / "logs" / f"actor_{actor}.log").read_text().splitlines():
            if line.startswith(f"actor {actor} connected"):
                lives.append([int(re.search(r"seed (\d+)", line).group(1)), 0])
            elif line.startswith(f"actor {actor} progress"):
                lives[-1][1] = json.loads(line.split(": ", 1)[1])["env_steps"]
        return lives

    assert contributions(0)[0][1] > 0
    killed_life, *restarted = contributions(1)
    assert killed_life[1] >= killed["env_steps"] > 0
    assert restarted and restarted[0][0] != killed_life[0], "the restarted actor must play other episodes"


@pytest.mark.slow
def test_a_launched_run_killed_outright_resumes_from_the_learners_and_the_servers_checkpoints(tmp_path):
    """SIGKILL to the launcher takes every role down with it (no orphans); `launch --resume` then
    reloads the replay from the server's checkpoint and the learner from its own, and finishes."""
    run_dir = tmp_path / "run"
    launch = Launch(run_dir)
    deadline = time.monotonic() + 300
    while not (run_dir / "checkpoints" / "checkpoint").exists():
        assert launch.process.poll() is None and time.monotonic() < deadline, launch.output[-3000:]
        time.sleep(0.05)
    os.kill(launch.process.pid, signal.SIGKILL)
    launch.wait()
    pids = dict(launch.pids)
    assert set(pids) == {"replay", "learner", "actor 0", "actor 1"}
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [role for role, pid in pids.items() if _alive(pid)], "roles outlived the launcher"
    assert not (run_dir / "summary.json").exists()
    saved = loop_state(run_dir)

    resumed = Launch(run_dir, resume=True)
    assert resumed.wait() == 0, resumed.output[-3000:]
    loaded = [int(m.group(1)) for m in re.finditer(r"ready at port \d+ \(table 'uniform', (\d+) items loaded",
                                                    (run_dir / "logs" / "replay.log").read_text())]
    assert loaded[0] == 0 and loaded[1] > 0  # the second server started from the first one's checkpoint
    resumes = json.loads((run_dir / "resumes.json").read_text())["resumes"]
    assert [r["updates"] for r in resumes] == [saved["updates"]]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["updates"] == 2700 and summary["env_steps"] == 3000
    with open(run_dir / "metrics.csv") as f:
        assert [int(row["env_steps"]) for row in csv.DictReader(f)] == [1500, 3000]


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie (exited, not yet reaped) is not alive
        return f.read().split(")")[-1].split()[0] != "Z"
