"""Action masks in the agents: (double-)Q targets against numbers worked out by hand, and acting,
exploring and the exported SavedModel never choosing a masked action over thousands of random masks.

Scalar DqnAgent/DdqnAgent through KerasQNetwork, 3 actions, a constant Q-network (zero kernel):
online Q = [1, 5, 3], target Q = [10, 20, 2]. One transition: action 0 (Q 1), reward 1, gamma 0.5;
the next state's mask [1, 0, 1] rules out action 1, the largest under both networks.

  agent     masked: next action -> value    y          unmasked: next action -> value   y
  DqnAgent  argmax target over {0, 2} = 0 -> 10  1 + 5 = 6   argmax target = 1 -> 20    11
  DdqnAgent argmax online over {0, 2} = 2 -> 2   1 + 1 = 2   argmax online = 1 -> 20    11

td_error = y - Q(s, 0): masked 5 (DQN) and 1 (DDQN), unmasked 10 for both.

BranchingDqnAgent: the numbers of test_branching_loss.py (branches [3, 2], online [1, 3, 2 | 0, 5],
target [4, 0, 2 | 3, 1], actions [0, 1] with Q [1, 5], reward 1, gamma 0.5, squared error) with a
mask on the next state:

  mask A = [1, 0, 1 | 1, 0]: branch 0 without action 1, branch 1 with only action 0
    double-Q: argmax online over valid = [2, 0] -> target values [2, 3]
    plain:    argmax target over valid = [0, 0] -> target values [4, 3]
  mask B = [0, 0, 1 | 0, 1]: one valid action per branch: [2, 1] -> target values [2, 1] either way

  mask  aggregation  double  y              errors          loss
  A     mean         yes     1 + .5 * 2.5   1.25, -2.75     (1.5625 + 7.5625) / 2 = 4.5625
  A     mean         no      1 + .5 * 3.5   1.75, -2.25     (3.0625 + 5.0625) / 2 = 4.0625
  A     max          yes     1 + .5 * 3     1.5, -2.5       (2.25 + 6.25) / 2     = 4.25
  A     max          no      1 + .5 * 4     2, -2           (4 + 4) / 2           = 4
  A     independent  yes     [2, 2.5]       1, -2.5         (1 + 6.25) / 2        = 3.625
  A     independent  no      [3, 2.5]       2, -2.5         (4 + 6.25) / 2        = 5.125
  B     mean         both    1 + .5 * 1.5   .75, -3.25      (.5625 + 10.5625) / 2 = 5.5625
  B     max          both    1 + .5 * 2     1, -3           (1 + 9) / 2           = 5
  B     independent  both    [2, 1.5]       1, -3.5         (1 + 12.25) / 2       = 6.625

Without the mask the same rows give 7.0625, 4.0625, 6.25, 4, 6.125, 5.125 (test_branching_loss.py).
"""

import collections

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.agents.categorical_dqn import categorical_dqn_agent
from tf_agents.agents.dqn import dqn_agent
from tf_agents.policies import policy_saver
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory
from tf_agents.utils import common

from tfa_custom_nets.agents import BranchingDqnAgent, EzGreedyPyPolicy
from tfa_custom_nets.agents.masked_random import MaskedRandomPyPolicy, random_valid_actions
from tfa_custom_nets.envs import action_mask_splitter
from tfa_custom_nets.networks import BranchingQNetwork, KerasCategoricalQNetwork, KerasQNetwork

OBS = tensor_spec.TensorSpec((2,), tf.float32, name="observation")


def valid_actions(masks, actions, sizes):
    """Whether each action is allowed by its mask, entry by entry in plain Python (independent of the
    library's own vectorised check, so a broken one cannot pass these tests). One mask: one bool."""
    if np.ndim(masks) == 1:
        return bool(valid_actions([masks], [actions], sizes)[0])
    masks, actions = np.asarray(masks).tolist(), np.asarray(actions).reshape(len(masks), len(sizes)).tolist()
    result = []
    for mask, action in zip(masks, actions):
        ok, offset = True, 0
        for size, choice in zip(sizes, action):
            ok = ok and 0 <= choice < size and mask[offset + choice] == 1
            offset += size
        result.append(ok)
    return np.array(result)


def masked_spec(size):
    return collections.OrderedDict(observation=OBS,
                                   action_mask=tensor_spec.BoundedTensorSpec((size,), tf.int8, 0, 1))


def constant_model(width):
    inputs = tf.keras.Input((2,))
    return tf.keras.Model(inputs, tf.keras.layers.Dense(width, kernel_initializer="zeros")(inputs))


def set_biases(net, biases):
    kernel, _ = net.get_weights()
    net.set_weights([kernel, np.asarray(biases, np.float32)])


def experience(actions, rewards, next_mask, action_shape=()):
    """One [1, 2] trajectory (n = 1) whose next observation carries `next_mask`."""
    size = len(next_mask)
    masks = np.stack([np.ones(size), next_mask]).astype(np.int8)[None]
    action = np.broadcast_to(np.asarray(actions, np.int64), (1, 2) + action_shape)
    return trajectory.Trajectory(
        step_type=tf.ones([1, 2], tf.int32),
        observation=collections.OrderedDict(observation=tf.zeros([1, 2, 2]), action_mask=tf.constant(masks)),
        action=tf.constant(action), policy_info=(), next_step_type=tf.ones([1, 2], tf.int32),
        reward=tf.constant([[rewards, 0.0]], tf.float32), discount=tf.ones([1, 2]))


# --- scalar DqnAgent / DdqnAgent through KerasQNetwork ------------------------------------------------

SCALAR = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 2)


def scalar_agent(agent_cls, masked=True):
    spec = masked_spec(3) if masked else OBS
    agent = agent_cls(ts.time_step_spec(spec), SCALAR, KerasQNetwork(OBS, SCALAR, constant_model(3)),
                      tf.keras.optimizers.SGD(0.0), gamma=0.5, td_errors_loss_fn=common.element_wise_squared_loss,
                      observation_and_action_constraint_splitter=action_mask_splitter if masked else None)
    agent.initialize()
    set_biases(agent._q_network, [1.0, 5.0, 3.0])
    set_biases(agent._target_q_network, [10.0, 20.0, 2.0])
    return agent


@pytest.mark.parametrize("agent_cls, expected", [(dqn_agent.DqnAgent, 5.0), (dqn_agent.DdqnAgent, 1.0)])
def test_scalar_target_ignores_a_masked_action_with_the_largest_q(agent_cls, expected):
    agent = scalar_agent(agent_cls)
    td_error = agent._loss(experience(0, 1.0, [1, 0, 1]), gamma=agent._gamma).extra.td_error
    np.testing.assert_allclose(td_error.numpy(), [expected])
    assert agent._loss(experience(0, 1.0, [1, 1, 1]), gamma=agent._gamma).extra.td_error.numpy() == [10.0]


def test_scalar_policies_take_only_valid_actions():
    agent = scalar_agent(dqn_agent.DqnAgent)
    masks = np.random.default_rng(0).integers(0, 2, (2000, 3)).astype(np.int8)
    masks[masks.sum(1) == 0, 0] = 1
    steps = ts.restart(collections.OrderedDict(observation=tf.zeros([2000, 2]), action_mask=tf.constant(masks)),
                       batch_size=2000)
    greedy = agent.policy.action(steps).action.numpy()
    assert valid_actions(masks, greedy, [3]).all()
    np.testing.assert_array_equal(greedy[masks[:, 1] == 1], 1)  # the largest online Q wherever it is valid
    explore = scalar_agent(dqn_agent.DqnAgent)
    explore._collect_policy._epsilon = 1.0  # every action random: still only valid ones
    assert valid_actions(masks, explore.collect_policy.action(steps).action.numpy(), [3]).all()


def test_categorical_agent_acts_and_trains_with_masks():
    spec = masked_spec(3)
    net = KerasCategoricalQNetwork(OBS, SCALAR, lambda: constant_model(3 * 11), num_atoms=11)
    agent = categorical_dqn_agent.CategoricalDqnAgent(
        ts.time_step_spec(spec), SCALAR, net, tf.keras.optimizers.Adam(1e-3), min_q_value=-10, max_q_value=10,
        observation_and_action_constraint_splitter=action_mask_splitter)
    agent.initialize()
    kernel, _ = agent._q_network.get_weights()
    logits = np.zeros((3, 11), np.float32)
    logits[1, -1] = 10.0  # action 1 puts its mass on the top atom: the largest expected Q
    agent._q_network.set_weights([kernel, logits.ravel()])
    steps = ts.restart(collections.OrderedDict(observation=tf.zeros([2, 2]),
                                               action_mask=tf.constant([[1, 0, 1], [1, 1, 1]], tf.int8)), batch_size=2)
    assert agent.policy.action(steps).action.numpy().tolist()[1] == 1
    assert agent.policy.action(steps).action.numpy()[0] != 1
    assert np.isfinite(float(agent.train(experience(0, 1.0, [1, 0, 1])).loss))


# --- BranchingDqnAgent ------------------------------------------------------------------------------

BRANCHES = tensor_spec.BoundedTensorSpec((2,), tf.int64, 0, [2, 1])
MASK_A, MASK_B = [1, 0, 1, 1, 0], [0, 0, 1, 0, 1]


def branching_agent(aggregation="mean", double_q=True, epsilon=0.1):
    agent = BranchingDqnAgent(
        ts.time_step_spec(masked_spec(5)), BRANCHES, BranchingQNetwork(OBS, BRANCHES, constant_model(5)),
        tf.keras.optimizers.SGD(0.0), gamma=0.5, td_errors_loss_fn=common.element_wise_squared_loss,
        target_aggregation=aggregation, double_q=double_q, epsilon_greedy=epsilon,
        observation_and_action_constraint_splitter=action_mask_splitter)
    agent.initialize()
    set_biases(agent._q_network, [1.0, 3.0, 2.0, 0.0, 5.0])
    set_biases(agent._target_q_network, [4.0, 0.0, 2.0, 3.0, 1.0])
    return agent


@pytest.mark.parametrize("mask, aggregation, double_q, expected", [
    (MASK_A, "mean", True, 4.5625), (MASK_A, "mean", False, 4.0625), (MASK_A, "max", True, 4.25),
    (MASK_A, "max", False, 4.0), (MASK_A, "independent", True, 3.625), (MASK_A, "independent", False, 5.125),
    (MASK_B, "mean", True, 5.5625), (MASK_B, "mean", False, 5.5625), (MASK_B, "max", True, 5.0),
    (MASK_B, "max", False, 5.0), (MASK_B, "independent", True, 6.625), (MASK_B, "independent", False, 6.625),
])
def test_branching_loss_by_hand_with_masked_targets(mask, aggregation, double_q, expected):
    agent = branching_agent(aggregation, double_q)
    exp = experience([0, 1], 1.0, mask, action_shape=(2,))
    assert float(agent._loss(exp, gamma=agent._gamma).loss) == pytest.approx(expected)


def random_masks(rng, rows, sizes):
    masks = rng.integers(0, 2, (rows, sum(sizes))).astype(np.int8)
    for offset, size in zip(np.cumsum([0, *sizes[:-1]]), sizes):  # at least one valid action per branch
        empty = masks[:, offset:offset + size].sum(1) == 0
        masks[empty, offset + rng.integers(0, size, empty.sum())] = 1
    return masks


def branching_steps(masks):
    return ts.restart(collections.OrderedDict(observation=tf.zeros([len(masks), 2]), action_mask=tf.constant(masks)),
                      batch_size=len(masks))


def test_branching_policies_and_saved_model_take_only_valid_actions(tmp_path):
    """Greedy, epsilon-greedy (epsilon 1: every branch random), Boltzmann-free sampling through the
    exported SavedModel: 3000 random masks, zero invalid actions, and the random ones spread over every
    valid action."""
    masks = random_masks(np.random.default_rng(1), 3000, [3, 2])
    steps = branching_steps(masks)
    agent = branching_agent(epsilon=1.0)
    greedy = agent.policy.action(steps).action.numpy()
    explore = agent.collect_policy.action(steps).action.numpy()
    for actions in (greedy, explore):
        assert valid_actions(masks, actions, [3, 2]).all()
    only_second = (masks[:, 3] == 0)  # branch 1 with one valid action always takes it
    assert (greedy[only_second, 1] == 1).all() and (explore[only_second, 1] == 1).all()
    full = (masks[:, :3] == 1).all(1)  # where branch 0 may take any action, exploration takes each
    assert set(explore[full, 0].tolist()) == {0, 1, 2}
    policy_saver.PolicySaver(agent.policy, batch_size=None).save(str(tmp_path / "policy"))
    loaded = tf.saved_model.load(str(tmp_path / "policy"))
    exported = loaded.action(steps).action.numpy()
    np.testing.assert_array_equal(exported, greedy)
    assert valid_actions(masks, exported, [3, 2]).all()


def test_an_all_masked_branch_stops_the_policy_naming_it():
    agent = branching_agent()
    with pytest.raises(tf.errors.InvalidArgumentError, match="rules out every action of a branch"):
        agent.policy.action(branching_steps(np.array([[1, 1, 1, 1, 1], [0, 1, 0, 0, 0]], np.int8)))


def test_an_all_zero_mask_row_as_tf_agents_loader_sends_it_is_let_through_and_the_saved_policy_loads(tmp_path):
    """SavedModelPyTFEagerPolicy warms a loaded policy up with all-zero time steps (mask included)."""
    from tf_agents.policies import py_tf_eager_policy

    agent = branching_agent()
    zero = branching_steps(np.zeros((2, 5), np.int8))
    assert agent.policy.action(zero).action.numpy().tolist() == [[0, 0], [0, 0]]
    policy_saver.PolicySaver(agent.policy, batch_size=None).save(str(tmp_path / "policy"))
    loaded = py_tf_eager_policy.SavedModelPyTFEagerPolicy(str(tmp_path / "policy"), load_specs_from_pbtxt=True,
                                                          batch_time_steps=False)
    masks = np.array([[1, 0, 1, 0, 1], [0, 1, 0, 1, 1]], np.int8)
    actions = loaded.action(tf.nest.map_structure(lambda t: t.numpy(), branching_steps(masks))).action
    assert valid_actions(masks, actions, [3, 2]).all()


def test_mask_of_the_wrong_length_is_refused_with_the_layout():
    with pytest.raises(ValueError, match=r"shape \[3\], expected \[5\].*3 \+ 2"):
        BranchingDqnAgent(ts.time_step_spec(masked_spec(3)), BRANCHES,
                          BranchingQNetwork(OBS, BRANCHES, constant_model(5)), tf.keras.optimizers.SGD(0.0),
                          observation_and_action_constraint_splitter=action_mask_splitter)


@pytest.mark.parametrize("network", ["KerasQNetwork", "BranchingQNetwork"])
def test_a_mask_given_to_the_network_without_the_splitter_is_refused(network):
    spec = masked_spec(5)
    with pytest.raises(ValueError, match="observation_spec\\['observation'\\].*action_mask_splitter"):
        if network == "KerasQNetwork":
            KerasQNetwork(spec, SCALAR, constant_model(3))
        else:
            BranchingQNetwork(spec, BRANCHES, constant_model(5))


# --- random and ez-greedy exploration in NumPy -----------------------------------------------------

def test_masked_random_actions_are_valid_and_uniform_over_the_valid_ones():
    rng = np.random.default_rng(2)
    mask = np.array([0, 1, 1, 1, 1, 0, 0, 1], np.int8)  # branches [4, 4]: {1, 2, 3} and {0, 3}
    actions = random_valid_actions(rng, np.broadcast_to(mask, (6000, 8)), [4, 4])
    counts = [np.bincount(actions[:, d], minlength=4) for d in range(2)]
    assert counts[0][0] == 0 and all(1800 < c < 2200 for c in counts[0][1:])
    assert counts[1][1] == counts[1][2] == 0 and all(2800 < c < 3200 for c in counts[1][[0, 3]])
    spec = tensor_spec.to_array_spec(SCALAR)
    policy = MaskedRandomPyPolicy(ts.time_step_spec(tensor_spec.to_array_spec(masked_spec(3))), spec,
                                  action_mask_splitter, seed=0)
    step = ts.restart(collections.OrderedDict(observation=np.zeros(2, np.float32),
                                              action_mask=np.array([0, 0, 1], np.int8)))
    assert {int(policy.action(step).action) for _ in range(20)} == {2}


class FixedPyPolicy:
    """A greedy stand-in that always answers `action`."""

    def __init__(self, time_step_spec, action_spec, action):
        self.time_step_spec, self.action_spec, self._action = time_step_spec, action_spec, action

    def action(self, time_step):
        from tf_agents.trajectories import policy_step
        return policy_step.PolicyStep(np.asarray(self._action, self.action_spec.dtype), (), ())


def test_ez_greedy_explores_valid_actions_and_lets_go_of_a_held_one_that_becomes_invalid():
    array_spec = tensor_spec.to_array_spec(BRANCHES)
    step_spec = ts.time_step_spec(tensor_spec.to_array_spec(masked_spec(5)))
    policy = EzGreedyPyPolicy(FixedPyPolicy(step_spec, array_spec, [0, 0]), epsilon=lambda: 1.0, mu=0.0,
                              max_repeat=50, seed=3, observation_and_action_constraint_splitter=action_mask_splitter)
    rng = np.random.default_rng(4)
    masks = random_masks(rng, 3000, [3, 2])
    held_then_invalid = 0
    previous = None
    for i, mask in enumerate(masks):
        observation = collections.OrderedDict(observation=np.zeros(2, np.float32), action_mask=mask)
        step = ts.restart(observation) if i == 0 else ts.transition(observation, 0.0)
        action = policy.action(step).action
        assert valid_actions(mask, action, [3, 2])
        if previous is not None and not valid_actions(mask, previous, [3, 2]):
            held_then_invalid += 1
        previous = action
    assert held_then_invalid > 100  # the random masks ruled out the held action often, and it was let go
