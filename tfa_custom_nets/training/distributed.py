"""DQN split into a replay server, actors and a learner, each its own process (Acme's and
TF-Agents' distributed design, on Reverb).

    tfa-nets launch cartpole --actors 2         # all roles on this machine (training/launch.py)
    # or each role by hand, on machines that reach the server's port:
    tfa-nets replay-server --config cartpole --port 8000 --checkpoint-dir /data/replay
    tfa-nets learner --config cartpole --replay replayhost:8000 --run-dir runs/cartpole_dist
    tfa-nets actor --config cartpole --replay replayhost:8000 --actor-id 0   # as many as wanted

One Reverb server holds two tables: the replay table (uniform or prioritized, the same items
as a single-process run writes) and a one-item `variables` table that TF-Agents'
`ReverbVariableContainer` reads and writes. The learner pushes the online Q-network's weights
there every `push_every` updates, with the env steps those updates stand for (the actors'
epsilon schedule reads them), the largest priority seen (new items enter with it) and a
`finished` flag; each actor pulls them every `pull_every` of its env steps and stops once the
learner has finished.

The update-to-data ratio is Reverb's: the replay table's `SampleToInsertRatio` limiter holds
sampled items per inserted item at `batch_size / update_every`, so the learner waits when the
actors are slow and the actors wait when the learner is, exactly as `updates =
(env_steps - learning_starts) // update_every` in a single-process run (within the limiter's
error buffer of `learning_starts` items). Sampling starts once `learning_starts` items are in;
until the learner's first weights arrive the actors act at `epsilon_start` (1.0: uniformly at
random), which is the single-process warm-up.

Reverb listens on all interfaces with no authentication or encryption: anyone who reaches the
port can read and write the replay and the weights. Keep it on a trusted network.
"""

from __future__ import annotations

import json
import signal
import sys
import time

import numpy as np
import reverb
import tensorflow as tf
from tf_agents.drivers import py_driver
from tf_agents.environments import batched_py_environment
from tf_agents.experimental.distributed import reverb_variable_container
from tf_agents.utils import common

from tfa_custom_nets import replay
from tfa_custom_nets.agents import EzGreedyPyPolicy
from tfa_custom_nets.training.compiled_policy import CompiledPyPolicy
from tfa_custom_nets.training.config import TrainConfig
from tfa_custom_nets.training.episode_returns import EpisodeReturns
from tfa_custom_nets.training.launch import READY
from tfa_custom_nets.training.run_files import release_free_memory, write_json
from tfa_custom_nets.training.train_eval import (
    Evaluations,
    StepCounter,
    finite_loss,
    make_agent_for_env,
    make_env,
    make_train_step,
    next_mark,
    prepare_run_dir,
    save_policy,
    seed_everything,
    set_tf_threads,
    train_env_seed,
)

VARIABLES_TABLE = reverb_variable_container.DEFAULT_TABLE


def check_distributable(config: TrainConfig) -> None:
    """Distributed runs replay through Reverb: a ValueError for configs that cannot."""
    if config.replay.backend != "reverb":
        raise ValueError(f"a distributed run replays through the Reverb server, but {config.name!r} sets "
                         f"replay.backend={config.replay.backend!r}. Fix: --set replay.backend='reverb'.")


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


def table_name(config: TrainConfig) -> str:
    return replay.PRIORITIZED_TABLE if config.replay.prioritized else replay.TABLE


def samples_per_insert(config: TrainConfig) -> float:
    """Sampled items per inserted item: `batch_size / update_every` unless the config sets it."""
    return config.replay.samples_per_insert or config.replay.batch_size / config.update_every


def make_tables(config: TrainConfig, agent, state: SharedState, rate_limited: bool = True) -> list[reverb.Table]:
    """The replay table (rate-limited to the config's update-to-data ratio unless `rate_limited`
    is False, e.g. to measure collection alone) and the one-item variables table."""
    replay_config = config.replay
    kwargs = {"min_size": replay_config.learning_starts, "n_step_update": config.agent.n_step_update,
              "samples_per_insert": samples_per_insert(config) if rate_limited else None,
              "name": table_name(config)}
    if replay_config.prioritized:
        table = replay.make_prioritized_table(agent.collect_data_spec, replay_config.capacity,
                                              priority_exponent=replay_config.priority_exponent, **kwargs)
    else:
        table = replay.make_uniform_table(agent.collect_data_spec, replay_config.capacity, **kwargs)
    variables = reverb.Table(VARIABLES_TABLE, sampler=reverb.selectors.Uniform(), remover=reverb.selectors.Fifo(),
                             rate_limiter=reverb.rate_limiters.MinSize(1), max_size=1, max_times_sampled=0,
                             signature=state.signature())
    return [table, variables]


def build_role(config: TrainConfig, seed: int, num_envs: int = 1):
    """The role's envs (seeded), its agent and its shared-state variables."""
    seed_everything(seed)
    train_envs = [make_env(config.env, seed=train_env_seed(seed, i)) for i in range(num_envs)]
    env_steps = tf.Variable(0, dtype=tf.int64, name="env_steps")
    agent, epsilon = make_agent_for_env(config, train_envs[0], env_steps)
    return train_envs, agent, epsilon, SharedState(agent, env_steps)


def wait_for_server(address: str, timeout_s: float = 120.0) -> reverb.Client:
    """A client of the server at `address` once it answers; a TimeoutError after `timeout_s`."""
    client = reverb.Client(address)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            client.server_info(timeout=5)
            return client
        except Exception as error:  # noqa: BLE001  (gRPC raises several kinds while the server starts)
            if time.monotonic() > deadline:
                raise TimeoutError(f"no Reverb server answered at {address} within {timeout_s:.0f} s: is "
                                   "`tfa-nets replay-server` running there, and is the port reachable?") from error
            time.sleep(1.0)


def inserted_items(client: reverb.Client, name: str) -> int:
    """Items inserted into table `name` since the server started."""
    return int(client.server_info()[name].rate_limiter_info.insert_stats.completed)


def serve_replay(config: TrainConfig, port: int | None = None, checkpoint_dir: str | None = None) -> None:
    """Runs the replay server until SIGINT/SIGTERM. With `checkpoint_dir` it starts from the newest
    Reverb checkpoint there and the learner's checkpoints are written there."""
    check_distributable(config)
    train_envs, agent, _, state = build_role(config, config.seed)
    train_envs[0].close()
    server = replay.start_server(make_tables(config, agent, state), port=port, checkpoint_dir=checkpoint_dir)
    client = reverb.Client(f"localhost:{server.port}")
    if client.server_info()[VARIABLES_TABLE].current_size == 0:
        # Initial (untrained) weights at env step 0, so that actors can start before the learner.
        reverb_variable_container.ReverbVariableContainer(f"localhost:{server.port}", [VARIABLES_TABLE]).push(
            state.nest)
    print(f"{READY} port {server.port} (table {table_name(config)!r}, "
          f"{inserted_items(client, table_name(config))} items loaded)", flush=True)
    def stop(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)  # SIGTERM and Ctrl-C both stop the server cleanly
    try:
        while True:  # a Python sleep, not `server.wait()`: signal handlers run only between Python calls
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def actor_seed(seed: int, actor_id: int) -> int:
    """Actor `actor_id`'s default seed, far from the run's (the learner's) and from other actors'."""
    return seed + 7_919 * (actor_id + 1)


def run_actor(config: TrainConfig, address: str, actor_id: int = 0, seed: int | None = None,
              pull_every: int = 100, report_seconds: float = 10.0, threads: int | None = 1) -> dict:
    """Collects into the replay at `address` until the learner has finished; returns the actor's totals.

    Acts with the config's collect policy (epsilon-greedy or ez-greedy, epsilon scheduled on the
    learner's env steps) on `config.num_envs` envs stepped as one batch, pulling the learner's
    weights every `pull_every` env steps; prints a progress line every `report_seconds`.
    TensorFlow runs its ops on `threads` threads (None: TensorFlow's default, one per core): one
    actor per core is the unit of scale-out, and actors that each spread over every core slow each
    other down.
    """
    check_distributable(config)
    if threads is not None:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    seed = actor_seed(config.seed, actor_id) if seed is None else seed
    num_envs = config.num_envs
    train_envs, agent, epsilon, state = build_role(config, seed, num_envs)
    env = train_envs[0] if num_envs == 1 else batched_py_environment.BatchedPyEnvironment(train_envs,
                                                                                          multithreading=False)
    batch = None if num_envs == 1 else num_envs
    client = wait_for_server(address)
    container = reverb_variable_container.ReverbVariableContainer(address, [VARIABLES_TABLE])
    container.update(state.nest)
    if config.agent.exploration == "ez_greedy":
        collect_policy = EzGreedyPyPolicy(CompiledPyPolicy(agent.policy, batched=batch is not None),
                                          epsilon=lambda: float(epsilon()), mu=config.agent.ez_mu,
                                          max_repeat=config.agent.ez_max_repeat, seed=seed, num_envs=batch)
    else:
        collect_policy = CompiledPyPolicy(agent.collect_policy, batched=batch is not None)
    observer = replay.make_observer(client, n_step_update=config.agent.n_step_update,
                                    table_name=table_name(config), num_envs=batch)
    observer.priority = float(state.max_priority.numpy())
    returns, counter = EpisodeReturns(window=10), StepCounter()
    driver = py_driver.PyDriver(env, collect_policy, [observer, returns, counter],
                                max_steps=max(pull_every, num_envs))
    start = last_report = time.monotonic()

    def report(final: bool = False) -> dict:
        totals = {"actor": actor_id, "env_steps": counter.steps, "episodes": returns.episodes,
                  "train_return": returns.mean(), "learner_updates": int(agent.train_step_counter.numpy()),
                  "epsilon": round(float(epsilon()), 3),
                  "env_steps_per_s": round(counter.steps / max(time.monotonic() - start, 1e-9), 1)}
        print(f"actor {actor_id} {'finished' if final else 'progress'}: {json.dumps(totals)}", flush=True)
        return totals

    print(f"actor {actor_id} connected to {address} (seed {seed}, {num_envs} env(s))", flush=True)
    time_step = env.reset()
    try:
        while True:
            time_step, _ = driver.run(time_step)
            observer.flush()  # in step with the rate limiter: no unconfirmed items pile up while it blocks
            container.update(state.nest)
            observer.priority = max(observer.priority, float(state.max_priority.numpy()))
            if state.finished.numpy():
                break
            if time.monotonic() - last_report >= report_seconds or counter.steps <= pull_every:
                last_report = time.monotonic()
                report()
    except KeyboardInterrupt:
        pass
    finally:
        observer.close()
        env.close()
    return report(final=True)


def run_learner(config: TrainConfig, address: str, resume: bool = False, push_every: int = 100) -> dict:
    """Trains from the replay at `address` and writes the run directory a single-process run writes.

    Runs `(total_env_steps - learning_starts) // update_every` updates, `push_every` per compiled
    call, pushing the weights after each call; evaluates and checkpoints at the env steps those
    updates stand for (`learning_starts + updates * update_every`). A checkpoint asks the server for
    a Reverb checkpoint too (written in the server's `--checkpoint-dir`), then writes the agent's.
    With `resume`, continues `config.run_dir` from its last checkpoint against whatever the server
    holds (live, or reloaded from its checkpoint after a restart).
    """
    check_distributable(config)
    tf_threads = set_tf_threads(config.tf_threads)
    run_dir = prepare_run_dir(config, resume, may_hold=("config.json", "logs", "replay"))
    train_envs, agent, epsilon, state = build_role(config, config.seed)
    client = wait_for_server(address)
    name = table_name(config)
    loop_state = tf.Variable("", dtype=tf.string, name="loop_state")
    checkpointer = common.Checkpointer(ckpt_dir=str(run_dir / "checkpoints"), max_to_keep=2, agent=agent,
                                       env_steps=state.env_steps, loop_state=loop_state)
    saved = json.loads(loop_state.numpy().decode()) if resume else None
    replay_config = config.replay
    updates, train_seconds = 0, 0.0
    next_checkpoint = config.checkpoint_interval
    resumes = []
    if saved is not None:
        updates, train_seconds, next_checkpoint = saved["updates"], saved["train_seconds"], saved["next_checkpoint"]
        state.max_priority.assign(saved["max_priority"])
        resumes = saved["resumes"] + [{"updates": updates,
                                       "replay_items_loaded": client.server_info()[name].current_size}]
        write_json(run_dir / "resumes.json", {"resumes": resumes})
        # Before any Reverb TF client exists: reseeding clears TensorFlow's kernel cache, and with it
        # the clients' resources ("Resource ... ClientResource does not exist" on the next insert).
        tf.random.set_seed(config.seed + 1_000_003 * len(resumes))
    container = reverb_variable_container.ReverbVariableContainer(address, [VARIABLES_TABLE])
    train_step = make_train_step(agent, iter(replay.make_dataset(address, config.replay.batch_size, name)),
                                 config, address, name)
    total_updates = max(0, (config.total_env_steps - replay_config.learning_starts) // config.update_every)
    evaluations = Evaluations(config, agent, run_dir, train_envs[0], epsilon, resumed=saved)

    def env_steps() -> int:
        return min(config.total_env_steps, replay_config.learning_starts + updates * config.update_every)

    def push(finished: bool = False) -> None:
        state.env_steps.assign(np.int64(env_steps()))
        state.finished.assign(np.int64(finished))
        container.push(state.nest)

    def save_checkpoint() -> None:
        """The server's Reverb checkpoint first, then the learner's naming it (as in `train_eval`)."""
        replay_name = replay.checkpoint_replay(client)
        release_free_memory()
        loop_state.assign(json.dumps({
            "updates": updates, "train_seconds": train_seconds, "next_checkpoint": next_checkpoint,
            "max_priority": float(state.max_priority.numpy()), "resumes": resumes, "replay_checkpoint": replay_name,
            **evaluations.state()}))
        state.env_steps.assign(np.int64(env_steps()))
        checkpointer.save(global_step=agent.train_step_counter)

    push()
    start = tick = time.perf_counter()
    loss = float("nan")
    try:
        evaluations.run_if_due(env_steps(), updates, train_seconds, loss, done=updates >= total_updates)
        while updates < total_updates:
            k = min(push_every, total_updates - updates)
            loss_tensor, max_priority = train_step(k)  # waits while the actors are behind (rate limiter)
            updates += k
            if replay_config.prioritized:
                state.max_priority.assign(max(float(state.max_priority.numpy()), float(max_priority)))
            push()
            steps, done = env_steps(), updates >= total_updates
            if done or steps >= next_checkpoint or evaluations.due(steps):
                loss = finite_loss(loss_tensor, f"after {updates} updates", run_dir)
                train_seconds += time.perf_counter() - tick
                tick = time.perf_counter()
                if steps >= next_checkpoint:
                    next_checkpoint = next_mark(steps, config.checkpoint_interval)
                    save_checkpoint()
                    train_seconds += time.perf_counter() - tick
                scores = evaluations.run_if_due(steps, updates, train_seconds, loss, done)
                if scores is not None:
                    print(f"learner: {json.dumps(evaluations.log.rows[-1])}", flush=True)
                tick = time.perf_counter()
        save_checkpoint()
        save_policy(agent, run_dir)
        summary = evaluations.summary(env_steps(), updates, train_seconds, time.perf_counter() - start)
        summary["replay_items_inserted"] = inserted_items(client, name)
        summary["tf_threads"] = tf_threads
        write_json(run_dir / "summary.json", summary)
        evaluations.plot()
        push(finished=True)
        return summary
    finally:
        evaluations.close()
        sys.stdout.flush()
