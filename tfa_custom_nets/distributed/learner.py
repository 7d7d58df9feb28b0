"""`tfa-nets learner`: trains from a replay server and writes the run directory a single-process run writes.

    tfa-nets learner --config cartpole --replay replayhost:8000 --run-dir runs/cartpole_dist [--resume]
"""

from __future__ import annotations

import json
import sys

import numpy as np
import tensorflow as tf
from tf_agents.experimental.distributed import reverb_variable_container

from tfa_custom_nets.distributed.shared import VARIABLES_TABLE, Role, check_distributable, wait_for_server
from tfa_custom_nets.replay.reverb_replay import ReverbReplay
from tfa_custom_nets.training.checkpoints import LoopState, read_loop_state
from tfa_custom_nets.training.config import TrainConfig
from tfa_custom_nets.training.loop_core import LoopCore, env_threshold
from tfa_custom_nets.training.process import set_tf_threads
from tfa_custom_nets.training.run_dir import guarded_run_dir, prepare_run_dir
from tfa_custom_nets.training.update_step import Updater, make_train_step

PREPARED = ("config.json", "logs", "replay", "sources")  # what `tfa-nets launch` puts in the run directory first


def run_learner(config: TrainConfig, address: str, resume: bool = False, push_every: int = 100,
                connect_timeout: float = 120.0) -> dict:
    """Runs `config.total_updates` updates, `push_every` per compiled call, pushing the weights after
    each call; checkpoints and evaluates at the env steps those updates stand for
    (`config.env_steps_for(updates)`). A checkpoint asks the server for a Reverb checkpoint (written
    in its `--checkpoint-dir`), then writes the learner's. With `resume`, continues `config.run_dir`
    from its last checkpoint against whatever the server holds (live, or reloaded after a restart).
    """
    check_distributable(config)
    tf_threads = set_tf_threads(config.tf_threads)
    role = Role(config, config.seed)  # before the run directory: a config that cannot build leaves nothing
    run_dir, config = prepare_run_dir(config, resume, may_hold=PREPARED)
    with guarded_run_dir(run_dir):
        shared = role.shared
        wait_for_server(address, connect_timeout)
        state = read_loop_state(run_dir) if resume else LoopState.start(config)
        if resume:  # fresh op seeds, before any Reverb TF client exists (reseeding drops their resources)
            tf.random.set_seed(config.resume_seed(len(state.resumes) + 1))
        replay = ReverbReplay(config, role.agent.collect_data_spec, address)
        container = reverb_variable_container.ReverbVariableContainer(address, [VARIABLES_TABLE])
        train_step = make_train_step(role.agent, replay.batches, config,
                                     replay.priority_writer() if replay.prioritized else None)
        updater = Updater(train_step, replay, asynchronous=False)
        core = LoopCore(config, role.agent, run_dir, replay, state, shared.env_steps, role.epsilon,
                        env_threshold(config, role.env), resumed=resume)

        def push(finished: bool = False) -> None:
            shared.env_steps.assign(np.int64(state.env_steps))
            shared.max_priority.assign(replay.priority)
            shared.finished.assign(np.int64(finished))
            container.push(shared.nest)

        total = config.total_updates
        state.env_steps = config.env_steps_for(state.updates)
        push()
        try:
            core.report_if_due(updater.wait, done=state.updates >= total)
            while state.updates < total:
                k = min(push_every, total - state.updates)
                updater.submit(k)  # waits while the actors are behind (rate limiter)
                state.updates += k
                state.env_steps = config.env_steps_for(state.updates)
                push()
                if core.report_if_due(updater.wait, done=state.updates >= total) is not None:
                    print(f"learner: {json.dumps(core.evaluations.log.rows[-1])}", flush=True)
            summary = core.finish(updater.wait, replay_items_inserted=replay.inserted(), tf_threads=tf_threads)
            push(finished=True)
            return summary
        finally:
            updater.close()
            core.close()
            role.env.close()
            sys.stdout.flush()
