import numpy as np
import pytest
import tensorflow as tf
from tf_agents.agents.categorical_dqn import categorical_dqn_agent
from tf_agents.policies import policy_saver
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory
from tf_agents.utils import common

from tfa_custom_nets.networks import KerasCategoricalQNetwork

OBS = tensor_spec.TensorSpec((4,), tf.float32)
ACTIONS = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 2)
ATOMS = 11


def flat_logits():
    inputs = tf.keras.Input((4,), name="observation")
    return tf.keras.Model(inputs, tf.keras.layers.Dense(3 * ATOMS)(tf.keras.layers.Dense(16, "relu")(inputs)))


def shaped_logits():
    inputs = tf.keras.Input((4,), name="observation")
    x = tf.keras.layers.Dense(3 * ATOMS)(tf.keras.layers.Dense(16, "relu")(inputs))
    return tf.keras.Model(inputs, tf.keras.layers.Reshape((3, ATOMS))(x))


@pytest.fixture(params=[flat_logits, shaped_logits])
def net(request):
    return KerasCategoricalQNetwork(OBS, ACTIONS, request.param(), num_atoms=ATOMS)


def make_agent(net):
    agent = categorical_dqn_agent.CategoricalDqnAgent(
        ts.time_step_spec(OBS), ACTIONS, categorical_q_network=net, optimizer=tf.keras.optimizers.Adam(0.01),
        min_q_value=-10.0, max_q_value=10.0, target_update_period=1000)
    agent.initialize()
    return agent


def test_output_is_actions_by_atoms_and_copies_are_independent(net):
    logits, _ = net(tf.zeros([5, 4]))
    assert logits.shape == (5, 3, ATOMS) and net.num_atoms == ATOMS
    target = net.copy(name="target")
    target.create_variables()
    common.check_no_shared_variables(net, target)
    assert any(not np.array_equal(a.numpy(), b.numpy()) for a, b in zip(net.variables, target.variables))


def test_trains_inside_categorical_dqn_agent_and_saves(net, tmp_path):
    agent = make_agent(net)
    online_before = [v.numpy() for v in net.trainable_variables]
    target_before = [v.numpy() for v in agent._target_q_network.variables]  # noqa: SLF001
    ones = tf.ones([4, 2])
    experience = trajectory.Trajectory(tf.ones([4, 2], tf.int32), tf.random.normal([4, 2, 4], seed=1),
                                       tf.ones([4, 2], tf.int64), (), tf.ones([4, 2], tf.int32), ones, ones)
    agent.train(experience)
    assert any(not np.allclose(a, v.numpy()) for a, v in zip(online_before, net.trainable_variables))
    for a, v in zip(target_before, agent._target_q_network.variables):  # noqa: SLF001
        np.testing.assert_array_equal(a, v.numpy())

    policy_saver.PolicySaver(agent.policy, batch_size=None).save(str(tmp_path / "policy"))
    loaded = tf.saved_model.load(str(tmp_path / "policy"))
    step = ts.restart(tf.random.normal([16, 4], seed=2), batch_size=16)
    np.testing.assert_array_equal(agent.policy.action(step).action.numpy(), loaded.action(step).action.numpy())


def test_wrong_output_size_names_the_expected_shapes():
    with pytest.raises(ValueError, match=r"shape \[B, 33\], expected \[B, 153\] or \[B, 3, 51\].*num_atoms=11"):
        KerasCategoricalQNetwork(OBS, ACTIONS, flat_logits(), num_atoms=51)
    with pytest.raises(ValueError, match=r"num_atoms must be an int >= 2"):
        KerasCategoricalQNetwork(OBS, ACTIONS, flat_logits(), num_atoms=1)
