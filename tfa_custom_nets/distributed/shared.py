"""What the replay server, actors, learner and launcher share: the tables, the pushed variables,
the server handshake.

One Reverb server holds two tables: the replay table (uniform or prioritized, the same items
as a single-process run writes) and a one-item `variables` table that TF-Agents'
`ReverbVariableContainer` reads and writes. The learner pushes the online Q-network's weights
there every `push_every` updates, with the env steps those updates stand for (the actors'
epsilon schedule reads them), the largest priority seen (new items enter with it) and a
`finished` flag; each actor pulls them every `pull_every` of its env steps and stops once the
learner has finished.

The update-to-data ratio is Reverb's: the replay table's `SampleToInsertRatio` limiter holds
sampled items per inserted item at `config.samples_per_insert` (`batch_size / update_every`
unless set), so the learner waits when the actors are slow and the actors wait when the learner
is, as `config.updates_due(env_steps)` in a single-process run (within the limiter's error
buffer of `learning_starts` items). Sampling starts once `learning_starts` items are in; until
the learner's first weights arrive the actors act at `epsilon_start` (1.0: uniformly at random),
which is the single-process warm-up.
"""

from __future__ import annotations

import socket
import time

import reverb
import tensorflow as tf
from tf_agents.experimental.distributed import reverb_variable_container

from tfa_custom_nets.replay.backends import BACKENDS
from tfa_custom_nets.replay.reverb_replay import make_table
from tfa_custom_nets.training.builders import make_agent_for_env, make_train_envs
from tfa_custom_nets.training.config import TrainConfig
from tfa_custom_nets.training.kinds import KINDS, agent_kind
from tfa_custom_nets.training.process import seed_everything

READY = "replay server ready at"  # the line `serve_replay` prints once it accepts connections
VARIABLES_TABLE = reverb_variable_container.DEFAULT_TABLE


def check_distributable(config: TrainConfig) -> None:
    """Distributed runs replay through Reverb and train the kinds that say so (`AgentKind.distributed`): a
    ValueError for a config that asks for the memory backend or another agent."""
    if not config.kind.distributed:
        kinds = ", ".join(name for name in KINDS if agent_kind(name).distributed)
        raise ValueError(f"the distributed roles train {kinds}; {config.name!r} sets "
                         f"agent.kind={config.agent.kind!r}. Fix: tfa-nets train {config.name} (one process).")
    if config.replay.backend != "auto" and not BACKENDS[config.replay.backend].capabilities.remote_actors:
        serving = [name for name, backend in BACKENDS.items() if backend.capabilities.remote_actors]
        raise ValueError(f"a distributed run replays through a server its roles share, but {config.name!r} sets "
                         f"replay.backend={config.replay.backend!r}, which serves no other process. Fix: --set "
                         f"replay.backend={serving[0]!r} (or 'auto').")


class SharedState:
    """The variables the learner pushes and the actors pull, as one nest of `tf.Variable`s."""

    def __init__(self, agent, env_steps: tf.Variable):
        self.env_steps = env_steps
        self.max_priority = tf.Variable(1.0, dtype=tf.float64, name="max_priority")
        self.finished = tf.Variable(0, dtype=tf.int64, name="finished")
        self.nest = {reverb_variable_container.POLICY_KEY: agent.policy.variables(),
                     reverb_variable_container.TRAIN_STEP_KEY: agent.train_step_counter,
                     "env_steps": env_steps, "max_priority": self.max_priority, "finished": self.finished}

    def signature(self):
        return tf.nest.map_structure(lambda v: tf.TensorSpec(v.shape, v.dtype), self.nest)


def make_tables(config: TrainConfig, agent, state: SharedState, rate_limited: bool = True) -> list[reverb.Table]:
    """The replay table (rate-limited to the config's update-to-data ratio unless `rate_limited`
    is False, e.g. to measure collection alone) and the one-item variables table."""
    min_size, samples_per_insert = config.reverb_table_limits(distributed=True)
    table = make_table(config, agent.collect_data_spec, min_size, samples_per_insert if rate_limited else None)
    variables = reverb.Table(VARIABLES_TABLE, sampler=reverb.selectors.Uniform(), remover=reverb.selectors.Fifo(),
                             rate_limiter=reverb.rate_limiters.MinSize(1), max_size=1, max_times_sampled=0,
                             signature=state.signature())
    return [table, variables]


class Role:
    """A role's envs (seeded with the role's seed), agent, epsilon schedule and shared variables."""

    def __init__(self, config: TrainConfig, seed: int, num_envs: int = 1):
        seed_everything(seed)
        self.train_envs, self.env, self.num_envs = make_train_envs(config.replace(num_envs=num_envs), seed)
        env_steps = tf.Variable(0, dtype=tf.int64, name="env_steps")
        self.agent, self.epsilon = make_agent_for_env(config, self.train_envs[0], env_steps)
        self.shared = SharedState(self.agent, env_steps)


def wait_for_server(address: str, timeout_s: float = 120.0) -> reverb.Client:
    """A client of the server at `address` once it answers; a TimeoutError after `timeout_s` that names the
    address, what was tried and how to start the server. A line says it is waiting if the first try fails.

    Each try is a TCP connection first (it fails at once where nothing listens; gRPC's own call can wait on
    a dead address), then Reverb's `server_info`.
    """
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"--replay must be HOST:PORT (the replay server's address), got {address!r}.")
    client, tries, last = reverb.Client(address), 0, None
    deadline = time.monotonic() + timeout_s
    while True:
        tries += 1
        try:
            socket.create_connection((host, int(port)), timeout=5).close()
            client.server_info(timeout=5)
            return client
        except Exception as error:  # noqa: BLE001  (a refused connection, or gRPC's errors while the server starts)
            last = error
        if tries == 1:
            print(f"waiting for the replay server at {address} (up to {timeout_s:.0f} s)", flush=True)
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"no replay server answered at {address}: {tries} tries over {timeout_s:.0f} s (TCP connect, then "
                f"Reverb's server_info), the last failing with {type(last).__name__}: {str(last)[:120]}. Start "
                f"one there with `tfa-nets replay-server --config CONFIG --port {port}` (or `tfa-nets launch` for "
                "all roles on one machine), and check that the host and port are reachable from here.") from last
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
