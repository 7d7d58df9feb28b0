"""`make_train_step(...)(k)`: k updates in one compiled call are exactly k calls of one update.

Two agents with the same weights train on the same three replay batches, one as a single call of
k=3 and one as three calls of k=1; their online and target variables, step counters and (with
prioritized replay) the priorities written back to the Reverb table must agree.
"""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.drivers import py_driver
from tf_agents.policies import random_py_policy
from tf_agents.specs import tensor_spec

from tests.replay.test_prioritized import config_for, fill_with_ranked_priorities, sample_all
from tfa_custom_nets import replay
from tfa_custom_nets.training import branch_spec, make_agent, make_env, make_train_step

READ_TIMEOUT_MS = 10_000  # a reader waiting for items that never come fails instead of hanging


def twin_agents(config, env):
    time_step_spec, action_spec = tensor_spec.from_spec(env.time_step_spec()), tensor_spec.from_spec(env.action_spec())
    agents = [make_agent(config, time_step_spec, action_spec, tf.Variable(0, dtype=tf.int64),
                         branch_spec(env, action_spec))[0] for _ in range(2)]
    agents[1]._q_network.set_weights(agents[0]._q_network.get_weights())
    agents[1]._target_q_network.set_weights(agents[0]._target_q_network.get_weights())
    return agents


def replayed(batches):
    """A fresh iterator over the same batches, in order."""
    dataset = tf.data.Dataset.from_tensors(batches[0])
    for batch in batches[1:]:
        dataset = dataset.concatenate(tf.data.Dataset.from_tensors(batch))
    return iter(dataset)


def variables(agent):
    return [v.numpy() for v in agent._q_network.variables + agent._target_q_network.variables]


def single_and_looped(config, batches, writer=None):
    """Two agents with the same weights: one trained by three calls of k=1, one by one call of k=3,
    on the same three batches; both checked to agree. Returns them."""
    single, looped = twin_agents(config, make_env(config.env, seed=0))
    initial_target = [v.numpy() for v in single._target_q_network.variables]
    step = make_train_step(single, replayed(batches), config, writer)
    losses = [float(step()[0]) for _ in range(3)]
    loss, _ = make_train_step(looped, replayed(batches), config, writer)(3)
    assert single.train_step_counter.numpy() == looped.train_step_counter.numpy() == 3
    assert float(loss) == pytest.approx(losses[-1], rel=1e-5)
    for a, b in zip(variables(single), variables(looped)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    moved = [not np.allclose(a, b) for a, b in zip(initial_target, variables(looped)[-len(initial_target):])]
    assert all(moved)  # the hard copy at update 2 happened
    return single, looped


def with_target_copy_every_2(config, prioritized):
    # A hard target copy every 2 updates: the copy must fire inside the loop as it does across calls.
    return dataclasses.replace(config, agent=dataclasses.replace(config.agent, target_update_period=2),
                               replay=dataclasses.replace(config.replay, prioritized=prioritized))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["ddqn", "bdq"])
def test_k_updates_in_one_call_equal_k_single_updates(kind):
    config = with_target_copy_every_2(config_for(kind), prioritized=False)
    tf.random.set_seed(0)
    env = make_env(config.env, seed=0)
    memory = replay.MemoryReplay(twin_agents(config, env)[0].collect_data_spec, 200, batch_size=8, n_step_update=2)
    policy = random_py_policy.RandomPyPolicy(env.time_step_spec(), env.action_spec(), seed=0)
    py_driver.PyDriver(env, policy, [memory.observer], max_steps=60).run(env.reset())
    memory.commit()
    single_and_looped(config, [next(memory.batches) for _ in range(3)])
    env.close()


@pytest.mark.slow
@pytest.mark.reverb
@pytest.mark.parametrize("kind", ["ddqn", "bdq"])
def test_k_prioritized_updates_in_one_call_equal_k_single_updates_and_write_the_same_priorities(kind):
    config = with_target_copy_every_2(config_for(kind), prioritized=True)
    tf.random.set_seed(0)
    env = make_env(config.env, seed=0)
    data_spec = twin_agents(config, env)[0].collect_data_spec
    table = replay.make_prioritized_table(data_spec, 200, min_size=8, n_step_update=2)
    server = replay.start_server([table])
    try:
        address = f"localhost:{server.port}"
        keys = fill_with_ranked_priorities(env, address, table.name, data_spec)
        data = iter(replay.make_dataset(address, data_spec, 8, table_name=table.name,
                                         rate_limiter_timeout_ms=READ_TIMEOUT_MS))
        batches = [next(data) for _ in range(3)]
        sampled = {int(k) for _, info in batches for k in info.key.numpy()}
        writer = replay.make_priority_writer(address, table.name)
        single, looped = twin_agents(config, env)
        step = make_train_step(single, replayed(batches), config, writer)
        for _ in range(3):
            step()
        after_single = sample_all(address, table.name, 0, wanted=sampled, all_keys=keys)
        make_train_step(looped, replayed(batches), config, writer)(3)
        after_looped = sample_all(address, table.name, 0, wanted=sampled, all_keys=keys)
        single_and_looped(config, batches)  # and the weights agree, as without priorities
        for key in sampled:  # both wrote the same |TD error| + eps, replacing priorities 1..size
            assert after_looped[key][1] == pytest.approx(after_single[key][1], rel=1e-5)
            assert after_looped[key][1] != pytest.approx(keys.index(key) + 1.0, rel=1e-3)
    finally:
        server.stop()
        env.close()


@pytest.mark.parametrize("asynchronous", [True, False])
def test_new_items_enter_at_the_largest_priority_written_so_far_which_never_falls(asynchronous):
    from types import SimpleNamespace

    from tfa_custom_nets.training import Updater

    calls = iter([(0.1, 3.0), (0.2, 2.0), (0.3, 5.0), (0.4, 0.5), (0.5, 4.9)])  # (loss, largest new priority)
    replay = SimpleNamespace(prioritized=True, priority=1.0)
    updater = Updater(lambda k: next(calls), replay, asynchronous=asynchronous)
    seen = []
    try:
        for _ in range(5):
            updater.submit(1)
            seen.append((updater.wait(), replay.priority))
    finally:
        updater.close()
    assert seen == [(0.1, 3.0), (0.2, 3.0), (0.3, 5.0), (0.4, 5.0), (0.5, 5.0)]
    uniform = SimpleNamespace(prioritized=False, priority=None)
    updater = Updater(lambda k: (0.1, 9.0), uniform, asynchronous=False)
    updater.submit(3)
    assert updater.wait() == 0.1 and uniform.priority is None  # uniform replay has no priorities to track
