"""TransitionObserver writes exactly the items of TF-Agents' ReverbAddTrajectoryObserver."""

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
from tf_agents.drivers import py_driver
from tf_agents.policies import random_py_policy
from tf_agents.replay_buffers import reverb_utils
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import policy_step, trajectory

from tests.conftest import ScriptedEnv
from tfa_custom_nets import envs, replay

pytestmark = pytest.mark.reverb  # Reverb tables throughout

READ_TIMEOUT_MS = 10_000  # a reader waiting for items that never come fails instead of hanging


def record_stream():
    """Trajectories of several episodes: terminations after 1, 4 and 2 steps, and time limits of 3."""
    stream = []
    for terminate_at, limit in ((4, None), (1, None), (None, 3), (2, None), (None, 3)):
        raw = ScriptedEnv(terminate_at=terminate_at)
        env = envs.load(gym.wrappers.TimeLimit(raw, max_episode_steps=limit) if limit else raw, seed=0)
        policy = random_py_policy.RandomPyPolicy(env.time_step_spec(), env.action_spec(), seed=1)
        # max_episodes=1 stops after the LAST -> FIRST boundary step, as a continuing driver writes it.
        py_driver.PyDriver(env, policy, [stream.append], max_episodes=1).run(env.reset())
    assert sum(bool(t.is_boundary()) for t in stream) == 5
    return env, stream


def items_written(observer_factory, data_spec, stream, n_step_update, packed=True):
    """The items an observer wrote for `stream`, read back as trajectories: from our packed layout, or (not
    `packed`) from the nested columns TF-Agents' observer writes."""
    import reverb

    layout = replay.ItemLayout(data_spec, n_step_update)
    signature = layout.signature if packed else tensor_spec.add_outer_dim(data_spec, layout.length)
    server = replay.start_server([reverb.Table.queue("queue", max_size=1000, signature=signature)])
    try:
        address = f"localhost:{server.port}"
        observer = observer_factory(reverb.Client(address))
        for step in stream:
            observer(step)
        observer.flush()
        count = reverb.Client(address).server_info()["queue"].current_size
        dataset = reverb.TrajectoryDataset.from_table_signature(
            address, "queue", 10, rate_limiter_timeout_ms=READ_TIMEOUT_MS).batch(count)
        data = next(iter(dataset)).data
        return count, layout.unpack(data) if packed else data
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.parametrize("n_step_update", [1, 3])
def test_same_items_as_tf_agents_observer(n_step_update):
    env, stream = record_stream()
    data_spec = trajectory.Trajectory(*tensor_spec.from_spec(
        trajectory.from_transition(env.time_step_spec(), policy_step.PolicyStep(env.action_spec(), (), ()),
                                   env.time_step_spec())))
    ours = items_written(lambda c: replay.make_observer(c, data_spec, n_step_update, "queue"), data_spec, stream,
                         n_step_update)
    reference = items_written(
        lambda c: reverb_utils.ReverbAddTrajectoryObserver(c, "queue", replay.sequence_length(n_step_update),
                                                           stride_length=1),
        data_spec, stream, n_step_update, packed=False)
    assert ours[0] == reference[0] > 0
    for a, b in zip(tf.nest.flatten(ours[1]), tf.nest.flatten(reference[1])):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("n_step_update", [1, 3])
def test_memory_backend_samples_the_same_items(n_step_update):
    env, stream = record_stream()
    # Episodes repeat their observations (seed 0 each): label every step by its place in the stream.
    stream = [step._replace(observation=np.array([i, 0.0], np.float32)) for i, step in enumerate(stream)]
    data_spec = trajectory.Trajectory(*tensor_spec.from_spec(
        trajectory.from_transition(env.time_step_spec(), policy_step.PolicyStep(env.action_spec(), (), ()),
                                   env.time_step_spec())))
    count, items = items_written(lambda c: replay.make_observer(c, data_spec, n_step_update, "queue"), data_spec,
                                 stream, n_step_update)
    windows = {tuple(np.asarray(w).ravel()) for w in items.observation.numpy()}
    assert len(windows) == count

    buffer = replay.make_memory_buffer(data_spec, capacity=1000)
    observer = replay.MemoryObserver(buffer)
    for step in stream:
        observer(step)
    assert observer.num_frames() == len(stream)
    batch, _ = next(replay.make_memory_sampler(buffer, batch_size=600, n_step_update=n_step_update))
    assert batch.observation.shape[1] == n_step_update + 1
    sampled = {tuple(np.asarray(w).ravel()) for w in batch.observation.numpy()}
    assert sampled == windows  # every Reverb item drawn, and nothing that crosses an episode's end

    # The stateless sampler (deterministic runs) draws from the same windows, and its draw is a function of the
    # counter: the same counter gives the same batch, the next one another.
    counter = tf.Variable(0, dtype=tf.int64)
    stateless = replay.make_memory_sampler(buffer, batch_size=600, n_step_update=n_step_update, counter=counter,
                                           seed=7)
    first, _ = next(stateless)
    assert {tuple(np.asarray(w).ravel()) for w in first.observation.numpy()} == windows
    np.testing.assert_array_equal(next(stateless)[0].observation, first.observation)
    counter.assign(1)
    assert not np.array_equal(next(stateless)[0].observation, first.observation)

    # Once the ring has wrapped, both samplers draw from the same windows (the oldest steps are gone).
    small = replay.make_memory_buffer(data_spec, capacity=len(stream) // 2)
    small_observer = replay.MemoryObserver(small)
    for step in stream:
        small_observer(step)
    small_observer.flush()
    supports = []
    for extra in ({}, {"counter": counter, "seed": 3}):
        sampler = replay.make_memory_sampler(small, batch_size=1000, n_step_update=n_step_update, **extra)
        supports.append({tuple(np.asarray(w).ravel()) for w in next(sampler)[0].observation.numpy()})
    assert supports[0] == supports[1] and supports[0] < windows


def batched_stream():
    """24 steps of two envs (episodes of 3 and 5 steps) stepped as one batch: the batched steps, each
    env's rows of them, and the data spec of one env's steps."""
    from tf_agents.environments import batched_py_environment

    def make(terminate_at):
        return envs.load(ScriptedEnv(terminate_at=terminate_at), seed=terminate_at)

    batched_env = batched_py_environment.BatchedPyEnvironment([make(3), make(5)], multithreading=False)
    policy = random_py_policy.RandomPyPolicy(batched_env.time_step_spec(), batched_env.action_spec(), seed=1,
                                             outer_dims=(2,))
    stream = []
    py_driver.PyDriver(batched_env, policy, [stream.append], max_steps=24).run(batched_env.reset())
    rows = [[tf.nest.map_structure(lambda x, i=i: x[i], step) for step in stream] for i in range(2)]
    single = tensor_spec.from_spec(batched_env.time_step_spec())
    data_spec = trajectory.Trajectory(*tensor_spec.from_spec(trajectory.from_transition(
        single, policy_step.PolicyStep(tensor_spec.from_spec(batched_env.action_spec()), (), ()), single)))
    return stream, rows, data_spec


@pytest.mark.slow
def test_batched_observer_writes_each_envs_items_as_its_own_observer_would():
    """Two envs with different episode lengths stepped as one batch: the batched observer's items
    are, as a set, those of one TransitionObserver per env fed that env's unbatched steps."""
    stream, rows, data_spec = batched_stream()
    count, batched = items_written(lambda c: replay.make_observer(c, data_spec, 2, "queue", num_envs=2), data_spec,
                                   stream, 2)
    per_env = [items_written(lambda c: replay.make_observer(c, data_spec, 2, "queue"), data_spec, row, 2)
               for row in rows]
    # env 0: episodes of 3 steps (4 trajectory steps each, 3-step windows: 2 per episode); env 1: 5 steps
    assert count == sum(c for c, _ in per_env) > 0

    def item_set(data):
        return sorted(map(tuple, np.concatenate([data.observation.numpy().reshape(len(data.reward), -1),
                                                 data.reward.numpy()], axis=1).tolist()))

    assert item_set(batched) == sorted(item_set(per_env[0][1]) + item_set(per_env[1][1]))
    # no item mixes the envs: an item's observations count 0, 1, 2 within one episode
    steps = batched.observation.numpy()[..., 0]
    assert (np.diff(steps, axis=1) == 1).all()


@pytest.mark.slow
def test_batched_memory_replay_samples_each_envs_windows_and_none_that_mix_envs():
    """The in-memory replay fed the same two-env batch: every window it samples is one of the per-env
    observers' items, and it samples them all (no window across envs or across an episode's end)."""
    stream, rows, data_spec = batched_stream()
    per_env = [items_written(lambda c: replay.make_observer(c, data_spec, 2, "queue"), data_spec, row, 2)[1]
               for row in rows]
    expected = {tuple(w.ravel()) for data in per_env for w in data.observation.numpy()}

    memory = replay.MemoryReplay(data_spec, capacity=1000, batch_size=2000, n_step_update=2, num_envs=2)
    for step in stream:
        memory.observer(step)
    memory.commit()
    assert memory.size() == 2 * len(stream)
    batch, _ = next(memory.batches)
    assert {tuple(w.ravel()) for w in batch.observation.numpy()} == expected
