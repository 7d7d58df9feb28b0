"""`tfa-nets actor`: collects into a replay server with the learner's latest weights.

    tfa-nets actor --config cartpole --replay replayhost:8000 --actor-id 0   # as many as wanted
"""

from __future__ import annotations

import json
import time

from tf_agents.experimental.distributed import reverb_variable_container

from tfa_custom_nets.distributed.shared import VARIABLES_TABLE, Role, check_distributable, wait_for_server
from tfa_custom_nets.replay.reverb_replay import ReverbReplay
from tfa_custom_nets.training.collection import Collector
from tfa_custom_nets.training.config import TrainConfig
from tfa_custom_nets.training.process import set_tf_threads


def run_actor(config: TrainConfig, address: str, actor_id: int = 0, seed: int | None = None,
              pull_every: int = 100, report_seconds: float = 10.0, threads: int | None = None,
              connect_timeout: float = 120.0) -> dict:
    """Collects into the replay at `address` until the learner has finished; returns the actor's totals.

    Acts with the config's collect policy (epsilon-greedy or ez-greedy, epsilon scheduled on the
    learner's env steps) on `config.num_envs` envs stepped as one batch, pulling the learner's
    weights every `pull_every` env steps; prints a progress line every `report_seconds`.
    TensorFlow runs its ops on `threads` threads (default: the config's `tf_threads`, else 1): one
    actor per core is the unit of scale-out, and actors that each spread over every core slow each
    other down.
    """
    check_distributable(config)
    set_tf_threads(threads or config.tf_threads or 1, inter_op=True)
    seed = config.actor_seed(actor_id) if seed is None else seed
    role = Role(config, seed, config.num_envs)
    shared = role.shared
    wait_for_server(address, connect_timeout)
    replay = ReverbReplay(config, role.agent.collect_data_spec, address, role.num_envs)
    container = reverb_variable_container.ReverbVariableContainer(address, [VARIABLES_TABLE])
    container.update(shared.nest)
    replay.priority = float(shared.max_priority.numpy())
    collector = Collector(config, role.agent, role.env, role.num_envs, replay.observer, role.epsilon, seed,
                          steps_per_call=pull_every)
    start = last_report = time.monotonic()

    def report(final: bool = False) -> dict:
        totals = {"actor": actor_id, "env_steps": collector.total, "episodes": collector.returns.episodes,
                  "train_return": collector.returns.mean(),
                  "learner_updates": int(role.agent.train_step_counter.numpy()),
                  "epsilon": round(float(role.epsilon()), 3),
                  "env_steps_per_s": round(collector.total / max(time.monotonic() - start, 1e-9), 1)}
        print(f"actor {actor_id} {'finished' if final else 'progress'}: {json.dumps(totals)}", flush=True)
        return totals

    print(f"actor {actor_id} connected to {address} (seed {seed}, {config.num_envs} env(s))", flush=True)
    try:
        while True:
            collector.collect()
            replay.flush()  # in step with the rate limiter: no unconfirmed items pile up while it blocks
            container.update(shared.nest)
            replay.priority = max(replay.priority, float(shared.max_priority.numpy()))
            if shared.finished.numpy():
                break
            if time.monotonic() - last_report >= report_seconds or collector.total <= pull_every:
                last_report = time.monotonic()
                report()
    except KeyboardInterrupt:
        pass
    finally:
        replay.close()
        role.env.close()
    return report(final=True)
