"""`tfa-nets launch`: a replay server, a learner and N actors as local processes.

    tfa-nets launch cartpole --actors 2 --seed 1
    tfa-nets launch cartpole --actors 2 --resume runs/CartPole-v1__cartpole__1__20261122-060000

The launcher writes the run's `config.json`, starts `tfa-nets replay-server` on a free port
(Reverb checkpoints in `RUN_DIR/replay`), then `tfa-nets learner` and `tfa-nets actor` with the
same arguments a run across machines would use, pointed at `localhost:PORT`. It streams their
output with a role prefix (each role's whole output goes to `RUN_DIR/logs/ROLE.log`), reports an
actor that dies and restarts it with a fresh seed (it rejoins by pulling the latest weights), and
stops every role when the learner exits, when the server dies, or on Ctrl-C. The run directory is
the learner's, the same files a single-process run writes.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from tfa_custom_nets.distributed.shared import READY, check_distributable
from tfa_custom_nets.training.config import TrainConfig
from tfa_custom_nets.training.run_dir import prepare_run_dir, resumable_run_dir

QUIET_PREFIXES = ("[reverb/cc/",)  # Reverb's C++ log lines: kept in the log files, not on the console
_print_lock = threading.Lock()


def say(text: str) -> None:
    with _print_lock:
        print(text, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the child, before it runs: Linux sends it SIGKILL when the launcher dies (even by SIGKILL),
    so no role outlives it. Elsewhere a no-op."""
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Role:
    """One child process: started, its output pumped to the console and `log_path`, stopped."""

    def __init__(self, name: str, argv: list[str], log_path: Path):
        self.name, self.argv, self.log_path = name, argv, log_path
        self.process: subprocess.Popen | None = None
        self.ready = threading.Event()
        self.restarts = 0

    def start(self, argv: list[str] | None = None) -> None:
        self.argv = argv or self.argv
        self.ready.clear()
        # A session of its own: Ctrl-C reaches only the launcher, which then stops the roles in order.
        self.process = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        bufsize=1, start_new_session=True, preexec_fn=_die_with_parent,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})
        say(f"[launch] {self.name} started (pid {self.process.pid})")
        threading.Thread(target=self._pump, args=(self.process,), daemon=True).start()

    def _pump(self, process: subprocess.Popen) -> None:
        with self.log_path.open("a") as log:
            for line in process.stdout:
                log.write(line)
                log.flush()
                if READY in line:
                    self.ready.set()
                if not line.startswith(QUIET_PREFIXES):
                    say(f"[{self.name}] {line.rstrip()}")

    def poll(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM, then SIGKILL after `timeout_s`."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            say(f"[launch] {self.name} did not stop within {timeout_s:.0f} s; killing it")
            self.process.kill()
            self.process.wait()


def exit_reason(returncode: int) -> str:
    if returncode < 0:
        return f"was killed by {signal.Signals(-returncode).name}"
    return f"exited with code {returncode}"


def launch(config: TrainConfig, actors: int, resume: bool = False, max_restarts: int = 3, pull_every: int = 100,
           push_every: int = 100, report_seconds: float = 10.0, ready_timeout_s: float = 300.0) -> int:
    """Runs the roles until the learner exits; returns the learner's exit code (130 on Ctrl-C)."""
    if actors < 1:
        raise ValueError(f"--actors must be >= 1, got {actors}.")
    check_distributable(config)
    run_dir = resumable_run_dir(config.run_dir) if resume else prepare_run_dir(config, claim=False)[0]
    logs = run_dir / "logs"
    logs.mkdir(exist_ok=True)
    address = f"localhost:{free_port()}"
    command = [sys.executable, "-m", "tfa_custom_nets.cli"]
    # The launcher checked the config (a preset the user named, or a run it was trusted to resume).
    config_args = ["--config", str(run_dir / "config.json"), "--trust-config"]
    say(f"[launch] run directory {run_dir}; replay server at {address}; {actors} actor(s)")

    server = Role("replay", [*command, "replay-server", *config_args, "--port", address.split(":")[1],
                             "--checkpoint-dir", str(run_dir / "replay")], logs / "replay.log")
    learner = Role("learner", [*command, "learner", *config_args, "--replay", address, "--run-dir", str(run_dir),
                               "--push-every", str(push_every), *(["--resume"] if resume else [])],
                   logs / "learner.log")

    def actor_argv(i: int, restarts: int) -> list[str]:
        seed = config.actor_seed(i, restarts)  # a restarted actor plays new episodes
        return [*command, "actor", *config_args, "--replay", address, "--actor-id", str(i), "--seed", str(seed),
                "--pull-every", str(pull_every), "--report-seconds", str(report_seconds)]

    actor_roles = [Role(f"actor {i}", actor_argv(i, 0), logs / f"actor_{i}.log") for i in range(actors)]
    returncode = 1
    try:
        server.start()
        deadline = time.monotonic() + ready_timeout_s
        while not server.ready.wait(0.5):
            if server.poll() is not None or time.monotonic() > deadline:
                say(f"[launch] the replay server did not start; see {logs / 'replay.log'}")
                return 1
        learner.start()
        for role in actor_roles:
            role.start()
        while True:
            time.sleep(0.5)
            if learner.poll() is not None:
                returncode = learner.poll()
                say(f"[launch] learner {exit_reason(returncode)}")
                break
            if server.poll() is not None:
                say(f"[launch] the replay server {exit_reason(server.poll())}; stopping the run "
                    f"(resume it with --resume {run_dir})")
                break
            for i, role in enumerate(actor_roles):
                code = role.poll()
                if code is None:
                    continue
                if role.restarts >= max_restarts:
                    if role.restarts == max_restarts:  # say it once
                        say(f"[launch] {role.name} {exit_reason(code)}; not restarting it (--max-restarts "
                            f"{max_restarts}); the learner trains from the other actors")
                        role.restarts += 1
                    continue
                role.restarts += 1
                say(f"[launch] {role.name} {exit_reason(code)}; the learner trains from the other actors; "
                    f"restarting it (restart {role.restarts} of {max_restarts})")
                role.start(actor_argv(i, role.restarts))
    except KeyboardInterrupt:
        say("[launch] interrupted: stopping the roles")
        returncode = 130
    finally:
        # Actors and the learner hold nothing that is not checkpointed (SIGTERM ends them at once:
        # an actor may be blocked on the rate limiter); the server stops cleanly on SIGTERM.
        for role in [*actor_roles, learner, server]:
            role.stop()
    if returncode == 0:
        say(f"[launch] finished: {run_dir}")
    return returncode
