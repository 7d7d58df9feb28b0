"""EzGreedyPyPolicy: hold lengths against hand-worked probabilities, greedy when epsilon is 0,
held actions cut at an episode's start, MultiDiscrete actions, and the training-loop wiring.

Hand numbers: P(n) ∝ n ** -mu on 1..max_repeat.
  mu 1, max 3: weights 1, 1/2, 1/3 (sum 11/6) -> 6/11, 3/11, 2/11.
  mu 2, max 2: weights 1, 1/4 (sum 5/4)       -> 4/5, 1/5.
  mu 0, max 4: uniform                         -> 1/4 each.
"""

import numpy as np
import pytest
from tf_agents.policies import py_policy
from tf_agents.specs import array_spec
from tf_agents.trajectories import policy_step
from tf_agents.trajectories import time_step as ts

from tfa_custom_nets.agents.ez_greedy import EzGreedyPyPolicy, repeat_probabilities

OBS = array_spec.ArraySpec((1,), np.float32)


class ConstantPolicy(py_policy.PyPolicy):
    def __init__(self, action_spec, action):
        super().__init__(ts.time_step_spec(OBS), action_spec)
        self.calls, self._value = 0, np.asarray(action, action_spec.dtype)

    def _action(self, time_step, policy_state, seed=None):
        self.calls += 1
        return policy_step.PolicyStep(self._value, (), ())


def first():
    return ts.restart(np.zeros(1, np.float32))


def mid():
    return ts.transition(np.zeros(1, np.float32), np.float32(0))


@pytest.mark.parametrize("mu, max_repeat, expected", [
    (1.0, 3, [6 / 11, 3 / 11, 2 / 11]), (2.0, 2, [4 / 5, 1 / 5]), (0.0, 4, [0.25] * 4), (5.0, 1, [1.0])])
def test_repeat_probabilities_by_hand(mu, max_repeat, expected):
    np.testing.assert_allclose(repeat_probabilities(mu, max_repeat), expected)


def test_bad_repeat_arguments_are_refused():
    with pytest.raises(ValueError, match="max_repeat >= 1"):
        repeat_probabilities(1.0, 0)


def test_epsilon_zero_is_the_greedy_policy():
    spec = array_spec.BoundedArraySpec((), np.int64, 0, 2)
    greedy = ConstantPolicy(spec, 1)
    policy = EzGreedyPyPolicy(greedy, epsilon=lambda: 0.0, mu=0.0, max_repeat=10, seed=0)
    actions = [int(policy.action(first() if i == 0 else mid()).action) for i in range(50)]
    assert actions == [1] * 50 and greedy.calls == 50


def hold_lengths(mu, max_repeat, episodes, seed=0):
    """One random decision at each episode's first step (epsilon 1 there, 0 after): the run of
    the random action before the greedy action (-1, never random) returns is the hold length."""
    spec = array_spec.BoundedArraySpec((), np.int64, 0, 2)
    steps = {"t": 0}
    policy = EzGreedyPyPolicy(ConstantPolicy(array_spec.BoundedArraySpec((), np.int64, -1, 2), -1),
                              epsilon=lambda: 1.0 if steps["t"] == 0 else 0.0, mu=mu, max_repeat=max_repeat,
                              seed=seed)
    policy._action_spec = spec  # random actions from 0..2; the greedy -1 marks the end of a hold
    lengths, actions = [], set()
    for _ in range(episodes):
        held = []
        for t in range(max_repeat + 2):
            steps["t"] = t
            action = int(policy.action(first() if t == 0 else mid()).action)
            if action == -1:
                break
            held.append(action)
        assert len(set(held)) == 1  # one random action, held
        actions.add(held[0])
        lengths.append(len(held))
    return np.bincount(lengths, minlength=max_repeat + 1)[1:] / episodes, actions


def test_hold_lengths_follow_the_zeta_probabilities():
    frequencies, actions = hold_lengths(mu=1.0, max_repeat=3, episodes=4000)
    np.testing.assert_allclose(frequencies, [6 / 11, 3 / 11, 2 / 11], atol=0.025)  # ~3.5 standard errors
    assert actions == {0, 1, 2}


def test_a_hold_is_cut_at_the_next_episode():
    spec = array_spec.BoundedArraySpec((), np.int64, 0, 2)
    epsilon = {"value": 1.0}
    policy = EzGreedyPyPolicy(ConstantPolicy(spec, 1), epsilon=lambda: epsilon["value"], mu=0.0,
                              max_repeat=1000, seed=3)
    policy.action(first())
    policy.action(mid())
    assert policy._left > 0  # a hold of up to 1000 steps is running
    epsilon["value"] = 0.0
    assert int(policy.action(first()).action) == 1  # the new episode starts greedy
    assert policy._left == 0


def test_multidiscrete_random_actions_cover_every_branch():
    spec = array_spec.BoundedArraySpec((3,), np.int64, 0, [1, 2, 4])
    policy = EzGreedyPyPolicy(ConstantPolicy(spec, [0, 0, 0]), epsilon=lambda: 1.0, mu=0.0, max_repeat=1, seed=0)
    actions = np.stack([policy.action(mid()).action for _ in range(300)])
    assert actions.shape == (300, 3) and actions.dtype == np.int64
    for branch, top in enumerate([1, 2, 4]):
        assert set(actions[:, branch]) == set(range(top + 1))


@pytest.mark.slow
def test_training_loop_collects_with_ez_greedy_and_repeats_for_a_seed(tmp_path):
    """The loop wires the policy in (held actions show in the training episodes) and seeds it.

    Epsilon stays 1, so every action comes from the exploration policy and the training returns
    depend only on the env's and the policy's seeds, not on what the updates sample."""
    import csv

    from tfa_custom_nets.training import load_preset, override, train_eval

    def run(name, exploration):
        config = override(load_preset("cartpole_reverb"), [
            "total_env_steps=2000", "update_every=4", "replay.learning_starts=500",
            "replay.batch_size=32", "eval_interval=1000", "eval_episodes=2", "checkpoint_interval=2000",
            "replay.backend='memory'", "num_envs=1",
            "progress=False", "network.kwargs={'hidden_units': [16]}", "seed=5",
            "agent.epsilon_end=1.0", f"agent.exploration={exploration!r}", "agent.ez_mu=0.0",
            "agent.ez_max_repeat=30", f"run_dir={str(tmp_path / name)!r}"])
        train_eval(config)
        with open(tmp_path / name / "metrics.csv") as f:
            return [float(r["train_return"]) for r in csv.DictReader(f)]

    first = run("a", "ez_greedy")
    assert run("b", "ez_greedy") == first
    # epsilon 1 throughout: one random action per step keeps the pole up ~22 steps; holding
    # one action for up to 30 steps drops it sooner
    assert first[-1] < run("c", "epsilon_greedy")[-1]


class BatchedConstantPolicy(ConstantPolicy):
    def _action(self, time_step, policy_state, seed=None):
        self.calls += 1
        return policy_step.PolicyStep(np.full(len(time_step.step_type), self._value), (), ())


def batch_of(step_types):
    n = len(step_types)
    return ts.TimeStep(np.array(step_types, np.int32), np.zeros(n, np.float32), np.ones(n, np.float32),
                       np.zeros((n, 1), np.float32))


def test_batched_envs_each_hold_their_own_action_and_cut_it_at_their_own_episode_start():
    spec = array_spec.BoundedArraySpec((), np.int64, 0, 2)
    epsilon = {"value": 1.0}
    greedy = BatchedConstantPolicy(array_spec.BoundedArraySpec((), np.int64, -1, 2), -1)
    policy = EzGreedyPyPolicy(greedy, epsilon=lambda: epsilon["value"], mu=0.0, max_repeat=1000, seed=0, num_envs=3)
    policy._action_spec = spec  # random actions from 0..2; the greedy -1 marks "not holding"
    F, M = ts.StepType.FIRST, ts.StepType.MID
    held = policy.action(batch_of([F, F, F])).action
    assert (held >= 0).all() and greedy.calls == 0  # all three hold: no greedy call needed
    epsilon["value"] = 0.0
    for _ in range(5):
        np.testing.assert_array_equal(policy.action(batch_of([M, M, M])).action, held)
    action = policy.action(batch_of([M, F, M])).action  # env 1 starts a new episode: its hold ends
    np.testing.assert_array_equal(action, [held[0], -1, held[2]])
    assert greedy.calls == 1


def test_batched_epsilon_zero_is_greedy_and_one_is_random_per_env():
    spec = array_spec.BoundedArraySpec((), np.int64, 0, 2)
    greedy = BatchedConstantPolicy(spec, 1)
    policy = EzGreedyPyPolicy(greedy, epsilon=lambda: 0.0, mu=0.0, max_repeat=5, seed=0, num_envs=4)
    assert (policy.action(batch_of([0] * 4)).action == 1).all()
    policy = EzGreedyPyPolicy(greedy, epsilon=lambda: 1.0, mu=0.0, max_repeat=1, seed=0, num_envs=4)
    actions = np.stack([policy.action(batch_of([1] * 4)).action for _ in range(200)])
    for env in range(4):
        assert set(actions[:, env]) == {0, 1, 2}
