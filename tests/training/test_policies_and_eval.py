import numpy as np
import pytest
import tensorflow as tf
from tf_agents.agents.dqn import dqn_agent
from tf_agents.policies import py_tf_eager_policy
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import StepType, policy_step, trajectory
from tf_agents.trajectories import time_step as ts

from tests.conftest import ScriptedEnv
from tfa_custom_nets import envs
from tfa_custom_nets.models import dense_q_model
from tfa_custom_nets.networks import KerasQNetwork
from tfa_custom_nets.training import CompiledPyPolicy, EpisodeReturns, compiled_policy, evaluate


@pytest.fixture(scope="module")
def agent():
    env = envs.load("CartPole-v1", seed=0)
    time_step_spec = tensor_spec.from_spec(env.time_step_spec())
    action_spec = tensor_spec.from_spec(env.action_spec())
    net = KerasQNetwork(time_step_spec.observation, action_spec,
                        lambda: dense_q_model(time_step_spec.observation, action_spec, hidden_units=[16]))
    agent = dqn_agent.DqnAgent(time_step_spec, action_spec, q_network=net,
                               optimizer=tf.keras.optimizers.Adam(1e-3), epsilon_greedy=0.5)
    agent.initialize()
    return agent


def observations(n):
    return np.random.default_rng(0).normal(size=(n, 4)).astype(np.float32)


def test_compiled_greedy_policy_matches_tf_agents_eager_policy(agent):
    reference = py_tf_eager_policy.PyTFEagerPolicy(agent.policy, use_tf_function=True, batch_time_steps=False)
    batch = ts.restart(observations(32), batch_size=32)
    expected = reference.action(batch).action
    np.testing.assert_array_equal(CompiledPyPolicy(agent.policy, batched=True).action(batch).action, expected)

    single = ts.restart(observations(1)[0])
    action = CompiledPyPolicy(agent.policy).action(single).action
    assert action.shape == () and action == expected[0]


def test_public_call_fallback_gives_the_same_actions(agent, monkeypatch):
    batch = ts.restart(observations(32), batch_size=32)
    fast = CompiledPyPolicy(agent.policy, batched=True).action(batch).action

    real_function = tf.function

    class NoCallFlat:
        def __init__(self, concrete):
            self._concrete = concrete

        def __call__(self, *args):
            return self._concrete(*args)

    def function_without_call_flat(fn, **kwargs):
        compiled = real_function(fn, **kwargs)

        class Wrapper:
            def get_concrete_function(self, *specs):
                return NoCallFlat(compiled.get_concrete_function(*specs))

        return Wrapper()

    monkeypatch.setattr(compiled_policy.tf, "function", function_without_call_flat)
    slow = CompiledPyPolicy(agent.policy, batched=True)
    np.testing.assert_array_equal(slow.action(batch).action, fast)


def test_collect_policy_explores_at_its_epsilon(agent):
    policy = CompiledPyPolicy(agent.collect_policy, batched=True)
    greedy = CompiledPyPolicy(agent.policy, batched=True)
    batch = ts.restart(observations(4000), batch_size=4000)
    disagree = np.mean(policy.action(batch).action != greedy.action(batch).action)
    assert disagree == pytest.approx(0.25, abs=0.03)  # epsilon 0.5, half of random picks agree


def test_evaluate_returns_one_exact_return_per_env():
    # Episodes of 3, 5 and 4 steps; rewards 1 + 2 + ... + T.
    eval_envs = [envs.load(ScriptedEnv(terminate_at=t)) for t in (3, 5, 4)]
    live_counts = []

    class AlwaysZero:
        def action(self, time_steps):
            live_counts.append(time_steps.observation.shape[0])  # one call serves every live episode
            return policy_step.PolicyStep(np.zeros(live_counts[-1], np.int64), (), ())

    np.testing.assert_array_equal(evaluate(AlwaysZero(), eval_envs, seed=0), [6.0, 15.0, 10.0])
    assert live_counts == [3, 3, 3, 2, 1]


def test_episode_returns_sum_rewards_per_episode_and_skip_boundaries():
    returns = EpisodeReturns(window=2)

    def traj(step_type, next_step_type, reward):
        return trajectory.Trajectory(np.int32(step_type), np.zeros(2), np.int64(0), (), np.int32(next_step_type),
                                     np.float32(reward), np.float32(1.0))

    for args in [(StepType.FIRST, StepType.MID, 1), (StepType.MID, StepType.LAST, 2),
                 (StepType.LAST, StepType.FIRST, 99),  # boundary: no reward counted
                 (StepType.FIRST, StepType.LAST, 5),
                 (StepType.LAST, StepType.FIRST, 0),
                 (StepType.FIRST, StepType.MID, 7)]:  # episode still running
        returns(traj(*args))
    assert list(returns.recent) == [3.0, 5.0] and returns.episodes == 2 and returns.mean() == 4.0


def test_episode_returns_of_a_batch_keep_each_envs_episode_apart():
    returns = EpisodeReturns(window=5)
    F, M, L = StepType.FIRST, StepType.MID, StepType.LAST

    def traj(step_types, next_step_types, rewards):
        return trajectory.Trajectory(np.int32(step_types), np.zeros((2, 2)), np.zeros(2, np.int64), (),
                                     np.int32(next_step_types), np.float32(rewards), np.ones(2, np.float32))

    returns(traj([F, F], [M, L], [1, 10]))  # env 1: a one-step episode (10)
    returns(traj([M, L], [L, F], [2, 99]))  # env 0 ends at 3; env 1's boundary carries no reward
    returns(traj([L, F], [F, M], [99, 20]))
    returns(traj([F, M], [L, L], [4, 30]))  # env 0: 4; env 1: 20 + 30
    assert list(returns.recent) == [10.0, 3.0, 4.0, 50.0] and returns.episodes == 4


def test_uniform_random_policy_samples_each_branch_in_its_own_range():
    from tf_agents.specs import array_spec
    from tf_agents.trajectories import time_step as ts

    from tfa_custom_nets.training import UniformRandomPyPolicy

    spec = array_spec.BoundedArraySpec((3,), np.int64, np.zeros(3, np.int64), np.array([2, 1, 4]))
    policy = UniformRandomPyPolicy(ts.time_step_spec(array_spec.ArraySpec((2,), np.float32)), spec)
    actions = policy.action(ts.restart(np.zeros((3000, 2), np.float32), batch_size=3000)).action
    assert actions.shape == (3000, 3)
    for d, n in enumerate([3, 2, 5]):
        counts = np.bincount(actions[:, d], minlength=n)
        assert len(counts) == n and counts.min() > 3000 / n * 0.8
