import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts

from tests.networks.test_contract import BRANCH_ACTIONS, OBS, branch_heads, sequential
from tfa_custom_nets.agents import BranchingDqnAgent
from tfa_custom_nets.networks import BranchingQNetwork
from tfa_custom_nets.networks.branching_q_network import PADDING_Q


def constant_heads(values, value=None):
    """Heads with zero kernels and the given biases: Q does not depend on the observation."""
    inputs = tf.keras.Input((4,), name="observation")
    heads = [tf.keras.layers.Dense(len(v), kernel_initializer="zeros",
                                   bias_initializer=tf.keras.initializers.Constant(v))(inputs) for v in values]
    if value is not None:
        heads.append(tf.keras.layers.Dense(1, kernel_initializer="zeros",
                                           bias_initializer=tf.keras.initializers.Constant([value]))(inputs))
    return tf.keras.Model(inputs, heads)


def test_padding_is_never_chosen_even_when_every_real_value_is_very_negative():
    heads = [[-5e8, -6e8, -7e8], [-5e8, -6e8], [-5e8, -6e8, -7e8, -8e8]]
    net = BranchingQNetwork(OBS, BRANCH_ACTIONS, constant_heads(heads))
    q, _ = net(tf.zeros([2, 4]))
    np.testing.assert_array_equal(q[0, 1].numpy(), [-5e8, -6e8, PADDING_Q, PADDING_Q])
    agent = BranchingDqnAgent(ts.time_step_spec(OBS), BRANCH_ACTIONS, net, tf.keras.optimizers.Adam(),
                              epsilon_greedy=1.0)
    actions = agent.collect_policy.action(ts.restart(tf.zeros([4000, 4]), batch_size=4000)).action.numpy()
    # Fully random exploration still stays inside each branch, and reaches every action in it.
    for d, n in enumerate(net.branch_sizes):
        assert set(np.unique(actions[:, d])) == set(range(n))


def test_dueling_combines_value_and_mean_subtracted_advantages():
    # V = 10; A_0 = [1, 2, 6] (mean 3), A_1 = [4, 0] (mean 2), A_2 = [0, 0, 0, 4] (mean 1).
    net = BranchingQNetwork(OBS, BRANCH_ACTIONS, constant_heads([[1, 2, 6], [4, 0], [0, 0, 0, 4]], value=10.0),
                            dueling=True)
    q, _ = net(tf.zeros([1, 4]))
    np.testing.assert_allclose(q[0].numpy(), [[8, 9, 13, PADDING_Q], [12, 8, PADDING_Q, PADDING_Q], [9, 9, 9, 13]])


def test_one_tensor_is_split_in_branch_order():
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(
        9, kernel_initializer="zeros", bias_initializer=tf.keras.initializers.Constant(values))])
    q, _ = BranchingQNetwork(OBS, BRANCH_ACTIONS, model)(tf.zeros([1, 4]))
    np.testing.assert_array_equal(q[0].numpy(), [[1, 2, 3, PADDING_Q], [4, 5, PADDING_Q, PADDING_Q], [6, 7, 8, 9]])


def test_greedy_policy_takes_the_argmax_of_every_branch():
    agent = BranchingDqnAgent(ts.time_step_spec(OBS), BRANCH_ACTIONS,
                              BranchingQNetwork(OBS, BRANCH_ACTIONS, constant_heads([[1, 3, 2], [5, 0], [0, 1, 9, 2]])),
                              tf.keras.optimizers.Adam())
    np.testing.assert_array_equal(agent.policy.action(ts.restart(tf.zeros([3, 4]), batch_size=3)).action.numpy(),
                                  [[1, 0, 2]] * 3)


def test_per_branch_exploration_rate():
    # epsilon 0.5 per branch: a branch deviates from greedy with probability 0.5 * (n - 1) / n, independently.
    net = BranchingQNetwork(OBS, BRANCH_ACTIONS, constant_heads([[1, 3, 2], [5, 0], [0, 1, 9, 2]]))
    agent = BranchingDqnAgent(ts.time_step_spec(OBS), BRANCH_ACTIONS, net, tf.keras.optimizers.Adam(),
                              epsilon_greedy=0.5)
    n = 20000
    actions = agent.collect_policy.action(ts.restart(tf.zeros([n, 4]), batch_size=n)).action.numpy()
    deviates = actions != np.array([1, 0, 2])
    np.testing.assert_allclose(deviates.mean(axis=0), [0.5 * 2 / 3, 0.5 * 1 / 2, 0.5 * 3 / 4], atol=0.015)
    # Independent branches: P(all greedy) is the product, not 1 - epsilon as whole-vector exploration gives.
    assert (~deviates).all(axis=1).mean() == pytest.approx((1 - 1 / 3) * (1 - 1 / 4) * (1 - 3 / 8), abs=0.015)


# ---- bad input: each fails at construction with a message that says how to fix it ----

def test_head_count_mismatch():
    two = tensor_spec.BoundedTensorSpec((2,), tf.int64, 0, [2, 1])
    with pytest.raises(ValueError, match=r"3 heads.*2 branches of sizes \[3, 2\].*Fix"):
        BranchingQNetwork(OBS, two, branch_heads())


def test_head_size_mismatch():
    sizes = tensor_spec.BoundedTensorSpec((3,), tf.int64, 0, [2, 2, 3])
    with pytest.raises(ValueError, match=r"sizes \[3, 3, 4\].*Dense\(n_d\) head per action dimension"):
        BranchingQNetwork(OBS, sizes, branch_heads())


def test_one_tensor_of_the_wrong_width():
    with pytest.raises(ValueError, match=r"shape \[B, 8\].*one tensor \[B, 9\]"):
        BranchingQNetwork(OBS, BRANCH_ACTIONS, sequential(8))


def test_dueling_without_a_value_head():
    with pytest.raises(ValueError, match=r"and a value head \[B, 1\]"):
        BranchingQNetwork(OBS, BRANCH_ACTIONS, branch_heads(), dueling=True)


def test_box_action_points_to_discretize_actions():
    box = tensor_spec.BoundedTensorSpec((3,), tf.float32, -1.0, 1.0)
    with pytest.raises(ValueError, match=r"float32.*DiscretizeActions"):
        BranchingQNetwork(OBS, box, sequential(9))
    with pytest.raises(ValueError, match=r"float32.*DiscretizeActions"):
        BranchingDqnAgent(ts.time_step_spec(OBS), box, None, tf.keras.optimizers.Adam())


def test_non_zero_start_is_refused():
    shifted = tensor_spec.BoundedTensorSpec((3,), tf.int64, [1, 0, 0], [3, 1, 3])
    with pytest.raises(ValueError, match=r"minimum 0 in every branch, saw \[1, 0, 0\].*envs.load"):
        BranchingQNetwork(OBS, shifted, sequential(9))
    with pytest.raises(ValueError, match=r"minimum 0 in every branch, saw \[1, 0, 0\].*envs.load"):
        BranchingDqnAgent(ts.time_step_spec(OBS), shifted, None, tf.keras.optimizers.Adam())


def test_scalar_action_points_to_keras_q_network():
    scalar = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 2)
    with pytest.raises(ValueError, match=r"shape \(D,\).*KerasQNetwork"):
        BranchingQNetwork(OBS, scalar, sequential(3))


def test_network_built_for_other_branches_is_refused_by_the_agent():
    net = BranchingQNetwork(OBS, BRANCH_ACTIONS, branch_heads())
    other = tensor_spec.BoundedTensorSpec((3,), tf.int64, 0, [1, 2, 3])  # sizes 2, 3, 4: same padded shape
    with pytest.raises(ValueError, match=r"branches of sizes \[3, 2, 4\] but the action spec has \[2, 3, 4\]"):
        BranchingDqnAgent(ts.time_step_spec(OBS), other, net, tf.keras.optimizers.Adam())


def test_padding_is_never_chosen_by_the_greedy_policy_the_export_or_the_target_even_below_the_guard(tmp_path):
    """The greedy path with real values below the network's finite padding value (-1e9, a diverged
    network): an argmax over the padded row would pick a padded, invalid action; masking by branch
    size never does, for a batch of observations, in the exported policy and in the double-Q target."""
    from tf_agents.policies import policy_saver

    heads = [[-3e9, -2e9, -4e9], [-5e9, -2e9], [-2e9, -3e9, -4e9, -5e9]]  # every real value below -1e9
    net = BranchingQNetwork(OBS, BRANCH_ACTIONS, constant_heads(heads))
    agent = BranchingDqnAgent(ts.time_step_spec(OBS), BRANCH_ACTIONS, net, tf.keras.optimizers.Adam(),
                              epsilon_greedy=0.0)
    step = ts.restart(tf.zeros([5, 4]), batch_size=5)
    expected = np.tile([1, 1, 0], (5, 1))  # each branch's best valid action
    np.testing.assert_array_equal(agent.policy.action(step).action.numpy(), expected)
    np.testing.assert_array_equal(agent.collect_policy.action(step).action.numpy(), expected)
    policy_saver.PolicySaver(agent.policy, batch_size=None).save(str(tmp_path / "policy"))
    loaded = tf.saved_model.load(str(tmp_path / "policy"))
    np.testing.assert_array_equal(loaded.action(step).action.numpy(), expected)
    # The target takes each branch's best valid next action: mean over branches of -2e9, -2e9, -2e9.
    values = agent._next_state_values(ts.transition(tf.zeros([5, 4]), tf.zeros([5])))  # noqa: SLF001
    np.testing.assert_allclose(values.numpy(), np.full((5, 3), -2e9))
