"""Prioritized replay: importance weights and priorities by hand, read back from a real Reverb table."""

import dataclasses
import itertools

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.drivers import py_driver
from tf_agents.policies import random_py_policy
from tf_agents.specs import tensor_spec

from tfa_custom_nets import envs, replay
from tfa_custom_nets.training import (
    AgentConfig,
    EnvConfig,
    NetworkConfig,
    ReplayConfig,
    TrainConfig,
    branch_spec,
    make_agent,
    make_env,
    make_train_step,
)

try:
    import reverb
except ImportError:  # the modern stack: the tests that read Reverb tables are skipped (marked `reverb`)
    reverb = None

READ_TIMEOUT_MS = 10_000  # a reader waiting for items that never come fails instead of hanging

EPS = 1e-6


def test_importance_weights_by_hand():
    probability, size = tf.constant([0.5, 0.25, 0.125, 0.125]), tf.constant([4, 4, 4, 4], tf.int64)
    # N * P = [2, 1, .5, .5]; beta 1: w = [.5, 1, 2, 2] / 2.
    np.testing.assert_allclose(replay.importance_weights(probability, size, 1.0), [0.25, 0.5, 1, 1], rtol=1e-6)
    # beta .5: w = [1/sqrt 2, 1, sqrt 2, sqrt 2] / sqrt 2.
    np.testing.assert_allclose(replay.importance_weights(probability, size, 0.5), [0.5, 2 ** -0.5, 1, 1], rtol=1e-6)
    # beta 0: no correction.
    np.testing.assert_allclose(replay.importance_weights(probability, size, 0.0), [1, 1, 1, 1])


def test_td_priorities_by_hand():
    np.testing.assert_allclose(replay.td_priorities(tf.constant([-2.0, 0.0, 0.5])), [2 + EPS, EPS, 0.5 + EPS])
    # Branching [B, D] errors: the mean of the branches' magnitudes.
    np.testing.assert_allclose(replay.td_priorities(tf.constant([[1.0, -3.0], [0.0, 0.0]]), 0.01), [2.01, 0.01])


def sample_all(address, table, count, wanted=(), all_keys=()):
    """(probability, priority) by key, drawn until `count` items (and every key in `wanted`) were seen.

    With `all_keys`, the other keys' priorities are first set to 1e-12 so that the wanted ones, whatever
    their priorities, are drawn within a few samples (only the wanted keys' values are then meaningful).
    """
    seen, wanted = {}, {int(k) for k in wanted}
    others = [k for k in all_keys if int(k) not in wanted]
    if others:
        reverb.TFClient(address).update_priorities(table, tf.constant(others, tf.uint64),
                                                   tf.fill([len(others)], tf.constant(1e-12, tf.float64)))
    dataset = reverb.TrajectoryDataset.from_table_signature(address, table, 8,
                                                           rate_limiter_timeout_ms=READ_TIMEOUT_MS)
    for sample in dataset.take(5000):
        seen[int(sample.info.key)] = (float(sample.info.probability), float(sample.info.priority))
        if len(seen) >= count and wanted <= set(seen):
            break
    return seen


@pytest.mark.reverb
def test_sampling_probabilities_and_priority_updates_read_back_from_reverb():
    spec = tf.TensorSpec((), tf.float32, name="x")
    table = replay.make_prioritized_table(spec, capacity=10, min_size=1, n_step_update=1, priority_exponent=0.5)
    server = replay.start_server([table])
    try:
        address = f"localhost:{server.port}"
        client = reverb.Client(address)
        layout = replay.ItemLayout(spec)
        with client.trajectory_writer(num_keep_alive_refs=2) as writer:
            for i, priority in enumerate([1.0, 4.0, 9.0]):  # alpha .5: weights 1, 2, 3 -> P = 1/6, 2/6, 3/6
                writer.append([layout.pack([np.float32(2 * i)])])
                writer.append([layout.pack([np.float32(2 * i + 1)])])
                writer.create_item(table.name, priority, [writer.history[0][-2:]])
                writer.end_episode()
        seen = sample_all(address, table.name, 3)
        by_priority = sorted(seen.values(), key=lambda pair: pair[1])
        np.testing.assert_allclose([p for p, _ in by_priority], [1 / 6, 2 / 6, 3 / 6], rtol=1e-5)
        keys = tf.constant(sorted(seen), tf.uint64)
        reverb.TFClient(address).update_priorities(table.name, keys, tf.constant([4.0, 4.0, 4.0], tf.float64))
        after = sample_all(address, table.name, 3)
        np.testing.assert_allclose([v for pair in after.values() for v in pair], [1 / 3, 4.0] * 3, rtol=1e-5)
    finally:
        server.stop()


def fill_with_ranked_priorities(env, address, table_name, data_spec, steps=60):
    """Random 2-step items from `steps` env steps, given priorities 1, 2, 3, ... in key order; their keys."""
    observer = replay.make_observer(reverb.Client(address), data_spec, n_step_update=2, table_name=table_name)
    policy = random_py_policy.RandomPyPolicy(env.time_step_spec(), env.action_spec(), seed=0)
    py_driver.PyDriver(env, policy, [observer], max_steps=steps).run(env.reset())
    observer.flush()
    size = int(reverb.Client(address).server_info()[table_name].current_size)
    keys = sorted(sample_all(address, table_name, size))
    reverb.TFClient(address).update_priorities(table_name, tf.constant(keys, tf.uint64),
                                               tf.range(1, size + 1, dtype=tf.float64))
    return keys


def config_for(kind):
    if kind == "bdq":
        env = EnvConfig(id=envs.ROBOT_ARM_ID, make_kwargs={"joints": 2, "bins": 3})
        network = NetworkConfig(model="tfa_custom_nets.models:branching_q_model",
                                kwargs={"hidden_units": [16], "head_units": 8})
    else:
        env, network = EnvConfig(id="CartPole-v1"), NetworkConfig(kwargs={"hidden_units": [16]})
    return TrainConfig(env=env, network=network, agent=AgentConfig(kind=kind, n_step_update=2),
                       replay=ReplayConfig(capacity=200, batch_size=8, learning_starts=40, prioritized=True,
                                           importance_beta_start=0.5),
                       total_env_steps=440, update_every=4)


@pytest.mark.reverb
@pytest.mark.parametrize("kind, train_step, beta", [
    # beta anneals from importance_beta_start (.5) to 1 over the run's (440 - 40) // 4 = 100 updates, then stays
    ("ddqn", 0, 0.5), ("bdq", 0, 0.5), ("ddqn", 50, 0.75), ("ddqn", 100, 1.0), ("bdq", 250, 1.0)])
def test_train_step_weights_the_loss_and_writes_td_errors_back(kind, train_step, beta):
    config = config_for(kind)
    tf.random.set_seed(0)
    env = make_env(config.env, seed=0)
    time_step_spec, action_spec = tensor_spec.from_spec(env.time_step_spec()), tensor_spec.from_spec(env.action_spec())
    agent, _ = make_agent(config, time_step_spec, action_spec, tf.Variable(0, dtype=tf.int64),
                          branch_spec(env, action_spec))
    table = replay.make_prioritized_table(agent.collect_data_spec, 200, min_size=8, n_step_update=2)
    server = replay.start_server([table])
    try:
        address = f"localhost:{server.port}"
        # priorities 1, 2, 3, ...: weights differ
        keys = fill_with_ranked_priorities(env, address, table.name, agent.collect_data_spec)
        experience, info = next(iter(replay.make_dataset(address, agent.collect_data_spec, 8, table_name=table.name,
                                                                  rate_limiter_timeout_ms=READ_TIMEOUT_MS)))
        # Before the update: beta at this train step; the loss the agent will minimise, and its TD errors.
        agent.train_step_counter.assign(train_step)
        weights = replay.importance_weights(info.probability, info.table_size, beta)
        assert np.ptp(weights.numpy()) > 0.05  # unequal priorities: the weights matter
        expected = agent._loss(experience, td_errors_loss_fn=agent._td_errors_loss_fn, gamma=agent._gamma,
                               weights=weights, training=True)
        unweighted = agent._loss(experience, td_errors_loss_fn=agent._td_errors_loss_fn, gamma=agent._gamma)
        assert float(unweighted.loss) != pytest.approx(float(expected.loss), rel=1e-3)
        loss, max_priority = make_train_step(agent, itertools.repeat((experience, info)), config,
                                             replay.make_priority_writer(address, table.name))()
        assert float(loss) == pytest.approx(float(expected.loss), rel=1e-5)
        priorities = replay.td_priorities(expected.extra.td_error).numpy()
        assert float(max_priority) == pytest.approx(priorities.max(), rel=1e-5)
        stored = sample_all(address, table.name, 0, wanted=info.key.numpy(), all_keys=keys)
        for key, priority in zip(info.key.numpy(), priorities):
            assert stored[int(key)][1] == pytest.approx(priority, rel=1e-5)
        assert agent.train_step_counter.numpy() == train_step + 1
    finally:
        server.stop()
        env.close()


def test_prioritized_config_values_are_checked():
    with pytest.raises(ValueError, match=r"priority_exponent must be in \[0, 1\], got 1.5"):
        ReplayConfig(prioritized=True, priority_exponent=1.5)
    with pytest.raises(ValueError, match=r"samples_per_insert must be > 0 or None, got 0"):
        ReplayConfig(samples_per_insert=0)
    assert dataclasses.replace(ReplayConfig(), prioritized=True).prioritized
