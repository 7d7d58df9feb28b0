"""BranchingDqnAgent's loss against numbers worked out by hand, and against DqnAgent at D = 1.

Two branches of sizes [3, 2]; the Q-network is constant (zero kernel), so only the
biases matter. Online Q: branch 0 = [1, 3, 2], branch 1 = [0, 5]. Target Q: branch 0 =
[4, 0, 2], branch 1 = [3, 1]. One transition: actions [0, 1], reward 1, discount 1,
gamma 0.5, squared error. Q of the taken actions: [1, 5].

  next action per branch:  double-Q: argmax online = [1, 1] -> target values [0, 1]
                           plain:    argmax target = [0, 0] -> target values [4, 3]

  aggregation   double  target y            errors y - Q       loss = mean of squares
  mean          yes     1 + .5 * 0.5 = 1.25  .25, -3.75        (.0625 + 14.0625) / 2 = 7.0625
  mean          no      1 + .5 * 3.5 = 2.75  1.75, -2.25       (3.0625 + 5.0625) / 2 = 4.0625
  max           yes     1 + .5 * 1   = 1.5   .5, -3.5          (.25 + 12.25) / 2     = 6.25
  max           no      1 + .5 * 4   = 3     2, -2             (4 + 4) / 2           = 4
  independent   yes     [1, 1.5]             0, -3.5           (0 + 12.25) / 2       = 6.125
  independent   no      [3, 2.5]             2, -2.5           (4 + 6.25) / 2        = 5.125

A terminated transition (discount 0) has y = 1: errors 0, -4, loss 8 for every row.
Importance weights [0.5, 2] on [the mean/double transition, the terminated one]:
(0.5 * 7.0625 + 2 * 8) / 2 = 9.765625.
2-step (rewards 1, 2; discounts 1, 1): reward 1 + .5 * 2 = 2, bootstrap gamma^2 = .25,
mean/double: y = 2 + .25 * .5 = 2.125, errors 1.125, -2.875, loss (1.265625 + 8.265625) / 2 = 4.765625.
"""

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.agents.dqn import dqn_agent
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory
from tf_agents.utils import common

from tfa_custom_nets.agents import BranchingDqnAgent
from tfa_custom_nets.networks import BranchingQNetwork, KerasQNetwork

OBS = tensor_spec.TensorSpec((2,), tf.float32)
ACTIONS = tensor_spec.BoundedTensorSpec((2,), tf.int64, 0, [2, 1])
ONLINE, TARGET = [1.0, 3.0, 2.0, 0.0, 5.0], [4.0, 0.0, 2.0, 3.0, 1.0]


def constant_model(width):
    inputs = tf.keras.Input((2,))
    return tf.keras.Model(inputs, tf.keras.layers.Dense(width, kernel_initializer="zeros")(inputs))


def set_biases(net, biases):
    kernel, _ = net.get_weights()
    net.set_weights([kernel, np.asarray(biases, np.float32)])


def make_agent(aggregation="mean", double_q=True, n_step_update=1):
    agent = BranchingDqnAgent(
        ts.time_step_spec(OBS), ACTIONS, BranchingQNetwork(OBS, ACTIONS, constant_model(5)),
        tf.keras.optimizers.SGD(0.0), gamma=0.5, n_step_update=n_step_update,
        td_errors_loss_fn=common.element_wise_squared_loss, target_aggregation=aggregation, double_q=double_q)
    agent.initialize()
    set_biases(agent._q_network, ONLINE)
    set_biases(agent._target_q_network, TARGET)
    return agent


def experience(actions, rewards, discounts):
    """A batch of [B, T] trajectories (T = n + 1), every step MID."""
    rewards = np.asarray(rewards, np.float32)
    batch, steps = rewards.shape
    return trajectory.Trajectory(
        step_type=tf.ones([batch, steps], tf.int32), observation=tf.zeros([batch, steps, 2]),
        action=tf.constant(np.broadcast_to(np.asarray(actions, np.int64)[:, None], (batch, steps, 2))),
        policy_info=(), next_step_type=tf.ones([batch, steps], tf.int32),
        reward=tf.constant(rewards), discount=tf.constant(np.asarray(discounts, np.float32)))


def loss(agent, exp, weights=None):
    return float(agent._loss(exp, gamma=agent._gamma, weights=weights).loss)


@pytest.mark.parametrize("aggregation, double_q, expected", [
    ("mean", True, 7.0625), ("mean", False, 4.0625), ("max", True, 6.25), ("max", False, 4.0),
    ("independent", True, 6.125), ("independent", False, 5.125)])
def test_loss_by_hand_for_every_aggregation(aggregation, double_q, expected):
    agent = make_agent(aggregation, double_q)
    assert loss(agent, experience([[0, 1]], [[1.0, 0.0]], [[1.0, 1.0]])) == pytest.approx(expected)
    assert loss(agent, experience([[0, 1]], [[1.0, 0.0]], [[0.0, 1.0]])) == pytest.approx(8.0)


def test_importance_weights_multiply_each_sample():
    agent = make_agent()
    exp = experience([[0, 1], [0, 1]], [[1.0, 0.0], [1.0, 0.0]], [[1.0, 1.0], [0.0, 1.0]])
    assert loss(agent, exp) == pytest.approx((7.0625 + 8.0) / 2)
    assert loss(agent, exp, weights=tf.constant([0.5, 2.0])) == pytest.approx(9.765625)


def test_n_step_target():
    agent = make_agent(n_step_update=2)
    assert loss(agent, experience([[0, 1]], [[1.0, 2.0, 0.0]], [[1.0, 1.0, 1.0]])) == pytest.approx(4.765625)


def test_train_reports_the_same_loss_and_per_branch_td_errors():
    agent = make_agent()
    info = agent.train(experience([[0, 1]], [[1.0, 0.0]], [[1.0, 1.0]]))
    assert float(info.loss) == pytest.approx(7.0625)
    np.testing.assert_allclose(info.extra.td_error.numpy(), [[0.25, -3.75]])


@pytest.mark.parametrize("stock_cls, double_q", [(dqn_agent.DqnAgent, False), (dqn_agent.DdqnAgent, True)])
@pytest.mark.parametrize("n_step_update", [1, 3])
def test_one_branch_equals_the_stock_agent(stock_cls, double_q, n_step_update):
    rng = np.random.default_rng(0)
    scalar = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 3)
    one_branch = tensor_spec.BoundedTensorSpec((1,), tf.int64, 0, 3)

    def model():
        inputs = tf.keras.Input((2,))
        return tf.keras.Model(inputs, tf.keras.layers.Dense(4)(tf.keras.layers.Dense(8, activation="tanh")(inputs)))

    common_kwargs = dict(gamma=0.9, n_step_update=n_step_update, td_errors_loss_fn=common.element_wise_huber_loss)
    stock = stock_cls(ts.time_step_spec(OBS), scalar, KerasQNetwork(OBS, scalar, model),
                      tf.keras.optimizers.SGD(0.0), **common_kwargs)
    branching = BranchingDqnAgent(ts.time_step_spec(OBS), one_branch, BranchingQNetwork(OBS, one_branch, model),
                                  tf.keras.optimizers.SGD(0.0), double_q=double_q, **common_kwargs)
    for agent in (stock, branching):
        agent.initialize()
    # Same online weights; a different target, so double-Q and plain targets differ.
    for src, dst in ((stock._q_network, branching._q_network),
                     (stock._target_q_network, branching._target_q_network)):
        dst.set_weights(src.get_weights())
    stock._target_q_network.set_weights([rng.normal(size=w.shape) for w in stock._q_network.get_weights()])
    branching._target_q_network.set_weights(stock._target_q_network.get_weights())

    batch, steps = 16, n_step_update + 1
    actions = rng.integers(0, 4, (batch, steps))
    step_type = rng.choice([0, 1, 2], (batch, steps), p=[0.2, 0.6, 0.2]).astype(np.int32)
    data = dict(step_type=tf.constant(step_type), observation=tf.constant(rng.normal(size=(batch, steps, 2)),
                                                                         tf.float32),
                policy_info=(), next_step_type=tf.constant(np.roll(step_type, -1, axis=1)),
                reward=tf.constant(rng.normal(size=(batch, steps)), tf.float32),
                discount=tf.constant(rng.choice([0.0, 1.0], (batch, steps)), tf.float32))
    stock_exp = trajectory.Trajectory(action=tf.constant(actions), **data)
    branch_exp = trajectory.Trajectory(action=tf.constant(actions[..., None]), **data)
    weights = tf.constant(rng.uniform(0.1, 2.0, batch), tf.float32)

    expected = stock._loss(stock_exp, gamma=0.9, weights=weights)
    got = branching._loss(branch_exp, gamma=0.9, weights=weights)
    assert float(got.loss) == pytest.approx(float(expected.loss), rel=1e-6)
    np.testing.assert_allclose(got.extra.td_loss.numpy(), expected.extra.td_loss.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got.extra.td_error.numpy()[:, 0], expected.extra.td_error.numpy(), rtol=1e-5,
                               atol=1e-6)


def test_per_branch_losses_and_q_values_go_to_tensorboard(tmp_path):
    agent = make_agent()
    writer = tf.summary.create_file_writer(str(tmp_path))
    with writer.as_default():
        agent.train(experience([[0, 1]], [[1.0, 0.0]], [[1.0, 1.0]]))
    writer.flush()
    values = {}
    for path in tmp_path.glob("events.out.tfevents.*"):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                values[value.tag] = float(tf.make_ndarray(value.tensor))
    # Branch 0: error .25, squared .0625, Q of the taken action 1; branch 1: error -3.75, squared 14.0625, Q 5.
    assert values["Branches/td_loss_0"] == pytest.approx(0.0625)
    assert values["Branches/td_loss_1"] == pytest.approx(14.0625)
    assert (values["Branches/q_taken_0"], values["Branches/q_taken_1"]) == (1.0, 5.0)
