"""`train_eval(config)`: a Keras Q-model trained by TF-Agents' DQN in one process.

    gymnasium envs --PyDriver(compiled collect policy)--> replay (in memory, or Reverb)
         ^                                                   |
         |                      batches inside the update <--+
         +---- greedy evaluation <--- agent.train (compiled, k updates per call,
                                      on a second thread while the next steps are collected)

The loop collects at least `update_every` env steps, then runs the updates now due
(`config.updates_due`), until `total_env_steps`. The loop core (`loop_core.LoopCore`) checkpoints
and evaluates at their intervals and writes the run directory: config, metrics, summary, plot,
TensorBoard events, checkpoints, `policy/` (final) and `best_policy/` (best evaluation).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from tqdm import tqdm  # the console bar: tqdm.auto would want ipywidgets in notebooks

from tfa_custom_nets.replay import make_replay, require_reverb
from tfa_custom_nets.training.builders import make_agent_for_env, make_train_envs
from tfa_custom_nets.training.checkpoints import LoopState, read_loop_state
from tfa_custom_nets.training.collection import Collector
from tfa_custom_nets.training.config import TrainConfig
from tfa_custom_nets.training.loop_core import LoopCore, env_threshold
from tfa_custom_nets.training.process import seed_everything, set_tf_threads
from tfa_custom_nets.training.run_dir import guarded_run_dir, prepare_run_dir, set_replay_aside, sigint_ignored
from tfa_custom_nets.training.update_step import Updater, make_train_step


def train_eval(config: TrainConfig, resume: bool = False, empty_replay: bool = False) -> dict:
    """Trains, evaluates and writes a run directory; returns the summary dict.

    With `resume`, continues the run in `config.run_dir` from its last checkpoint: agent and
    optimizer variables, step counters (so the epsilon and beta schedules), evaluation and
    best-policy bookkeeping, RNG states, metrics and the replay. The episode that was running when
    the process stopped starts over, and TensorFlow's sampling ops are reseeded (their state
    cannot be saved), so a resumed run is not bit-identical to an uninterrupted one, unless
    `config.exact_resume` (then checkpoints wait for an episode's end and every draw is saved).

    With `empty_replay` (a resume whose Reverb replay checkpoint is lost or unwanted), the run goes
    on with an empty replay that `replay.learning_starts` uniform random steps refill before the
    next update; those steps count towards `total_env_steps`.
    """
    if empty_replay and not resume:
        raise ValueError("--empty-replay applies to a resume: add --resume RUN_DIR.")
    if config.replay_capabilities.requires:
        require_reverb("replay.prioritized=True" if config.replay.prioritized else "replay.backend='reverb'",
                       "" if config.replay.prioritized else "Fix: --set replay.backend='memory' (or 'auto')")
    tf_threads = set_tf_threads(config.tf_threads)  # first: any TensorFlow op fixes the setting
    seed_everything(config.seed)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()

    # Build the envs and the agent before the run directory exists: a bad env id, an agent kind that
    # does not fit the action space or a model that does not fit the specs leaves nothing behind.
    train_envs, env, num_envs = make_train_envs(config)
    env_steps_var = tf.Variable(0, dtype=tf.int64, name="env_steps")
    try:
        agent, epsilon = make_agent_for_env(config, train_envs[0], env_steps_var)
        run_dir, config = prepare_run_dir(config, resume)
    except BaseException:
        env.close()
        raise
    with guarded_run_dir(run_dir):  # the lock is released and a traceback kept in logs/error.txt
        state = read_loop_state(run_dir) if resume else LoopState.start(config)
        if empty_replay:
            set_replay_aside(run_dir, config)
            state.replay_checkpoint = None
        if resume:  # fresh op seeds, before any Reverb TF client exists (reseeding drops their resources)
            tf.random.set_seed(config.resume_seed(len(state.resumes) + 1))
        replay = make_replay(config, agent, num_envs, run_dir / "replay", resume_from=state.replay_checkpoint)
        collector = Collector(config, agent, env, num_envs, replay.observer, epsilon, config.seed,
                              steps_per_call=config.update_every)
        train_step = make_train_step(agent, replay.batches, config,
                                     replay.priority_writer() if replay.prioritized else None)
        # Updates run beside collection unless `deterministic` (then a memory-backend run depends only on its seed)
        # or on-policy (the next rollout needs the updated policy).
        updater = Updater(train_step, replay,
                          asynchronous=config.async_updates and not config.deterministic and not config.on_policy)
        exact = config.exact_resume
        core = LoopCore(config, agent, run_dir, replay, state, env_steps_var, epsilon,
                        env_threshold(config, train_envs[0]), resumed=resume, returns=collector.returns,
                        rng=(train_envs, collector.policy), train_envs=train_envs,
                        time_step=(lambda: collector.time_step) if exact else None)
        if core.restored_time_step is not None:  # the episode's last step: the next one resets, as before the stop
            collector.time_step = core.restored_time_step
        bar = tqdm(total=config.total_env_steps, initial=state.env_steps, unit="step", disable=not config.progress,
                   mininterval=1.0, dynamic_ncols=True, desc=config.name)
        try:
            if (not resume or empty_replay) and config.warmup_steps:  # uniform random steps fill the replay
                steps = collector.warm_up(config.warmup_steps)
                state.env_steps += steps
                state.refill_steps += steps if resume else 0
                bar.update(steps)
            core.report_if_due(updater.wait)  # resumed: the evaluation due at the checkpoint, if it had not run
            while state.env_steps < config.total_env_steps:
                env_steps_var.assign(np.int64(state.env_steps))  # NumPy: Python ints stay in TF's scalar cache
                steps = collector.collect()
                state.env_steps += steps
                # On-policy, each rollout is one update; else the updates now due at the config's ratio.
                due = 1 if config.on_policy else (config.updates_due(state.env_steps - state.refill_steps)
                                                  - state.updates)
                updater.wait()
                replay.commit()  # the replay changes between updates, never while one samples it
                updater.submit(due)
                state.updates += due
                bar.update(steps)
                at_episode_end = not exact or bool(collector.time_step.is_last())
                scores = core.report_if_due(updater.wait, done=state.env_steps >= config.total_env_steps,
                                            may_checkpoint=at_episode_end)
                if scores is not None:
                    bar.set_postfix(eval=f"{scores.mean():.1f}", ret=f"{collector.returns.mean() or 0:.1f}",
                                    **config.kind.progress(epsilon),
                                    sps=f"{state.env_steps / state.train_seconds:.0f}", refresh=False)
            return core.finish(updater.wait, tf_threads=tf_threads)
        except KeyboardInterrupt:
            bar.close()
            with sigint_ignored():  # a second Ctrl-C cannot cut the checkpoint short
                interrupted = core.interrupted(updater.wait)
            raise interrupted from None
        finally:  # also on an error: stop the learner thread and the replay, close the envs
            updater.close()
            bar.close()
            core.close()
            replay.close()
            env.close()
