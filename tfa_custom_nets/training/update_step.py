"""The compiled update: `k` agent updates (DQN, BDQ, SAC; PPO one per rollout) in one call, and the object that
runs them beside collection.

    train_step = make_train_step(agent, replay.batches, config, replay.priority_writer())
    loss, max_priority = train_step(16)          # 16 updates, one compiled call

    updater = Updater(train_step, replay, asynchronous=True)
    updater.submit(16)                           # runs on a second thread while the next steps are collected
    loss = updater.wait()                        # the latest update's loss tensor (None before the first)
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tensorflow as tf

from tfa_custom_nets.replay import importance_weights, td_priorities
from tfa_custom_nets.training.config import TrainConfig
from tfa_custom_nets.training.kinds.parts import optimizer_slots


def build_optimizers(agent, config: TrainConfig) -> None:
    """Creates the optimizers' slots (for the variables the kind says each steps) before the update loop:
    variables cannot be created inside a while loop."""
    optimizer_slots(config.kind.optimizer_variables(agent))


def make_train_step(agent, batches, config: TrainConfig, priority_writer=None):
    """`k` updates in one compiled call, each on the next batch of `batches`: `(k=1) -> (last loss,
    largest new priority)`.

    The updates run in a `tf.while_loop` inside one `tf.function` (no Python between updates); each
    is a full `agent.train`, so the target network's hard or soft update and the train step counter
    advance exactly as with `k` separate calls. With a `priority_writer` (prioritized replay,
    `replay.priority_writer()`) each update's loss is weighted by importance-sampling weights (beta
    annealed linearly from `importance_beta_start` to 1 over the run's updates) and the sampled
    items' priorities are set to `|TD error| + priority_epsilon` before the next update samples.
    """
    replay_config = config.replay
    build_optimizers(agent, config)
    total_updates = max(1, config.total_updates)
    beta_start = replay_config.importance_beta_start

    consumed = getattr(batches, "consumed", None)  # an on-policy rollout: emptied by the update that reads it

    def one_update():
        experience, info = next(batches)
        if priority_writer is None:
            loss = agent.train(experience).loss
            if consumed is not None:  # emptied after the update, and the loss returned only once it is
                with tf.control_dependencies([loss]):
                    emptied = consumed()
                with tf.control_dependencies([emptied]):
                    loss = tf.identity(loss)
            return loss, tf.constant(0.0, tf.float64)
        progress = tf.minimum(tf.cast(agent.train_step_counter, tf.float64) / total_updates, 1.0)
        beta = beta_start + (1.0 - beta_start) * progress
        loss_info = agent.train(experience, weights=importance_weights(info.probability, info.table_size, beta))
        priorities = td_priorities(loss_info.extra.td_error, replay_config.priority_epsilon)
        with tf.control_dependencies([priority_writer(info, priorities)]):
            return tf.identity(loss_info.loss), tf.reduce_max(priorities)

    @tf.function(input_signature=[tf.TensorSpec([], tf.int32)], autograph=False)
    def updates_fn(k):
        def body(i, loss, max_priority):
            new_loss, new_max = one_update()
            return i + 1, new_loss, tf.maximum(max_priority, new_max)

        _, loss, max_priority = tf.while_loop(
            lambda i, *_: i < k, body, (tf.constant(0), tf.constant(float("nan")), tf.constant(0.0, tf.float64)),
            parallel_iterations=1)
        return loss, max_priority

    def train_step(k: int = 1):
        return updates_fn(np.int32(k))  # a NumPy scalar: Python ints stay in TensorFlow's scalar cache

    return train_step


class Updater:
    """Runs `train_step(k)` in turn, or on a second thread (`asynchronous`: TensorFlow releases the
    GIL) while the caller collects the next steps; keeps the latest loss and raises the replay's new-item
    priority to the largest priority written (prioritized replay)."""

    def __init__(self, train_step, replay, asynchronous: bool):
        self._train_step, self._replay = train_step, replay
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="learner") if asynchronous else None
        self._pending = None
        self.loss = None  # the latest finished call's loss tensor

    def submit(self, k: int) -> None:
        """Starts `k` updates (after the previous call has finished); runs them now if not asynchronous."""
        self.wait()
        if k > 0:
            self._pending = self._thread.submit(self._train_step, k) if self._thread else self._train_step(k)
            if self._thread is None:
                self.wait()

    def wait(self):
        """Waits for the pending call; returns the latest loss tensor (None before any update)."""
        if self._pending is not None:
            loss, max_priority = self._pending.result() if self._thread else self._pending
            self._pending = None
            self.loss = loss
            if self._replay.prioritized:  # new items enter at the largest priority seen
                self._replay.priority = max(self._replay.priority, float(max_priority))
        return self.loss

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown()
