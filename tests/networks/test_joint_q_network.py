import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

from tests.networks.test_contract import JOINT_ACTIONS, OBS, branch_heads, sequential
from tfa_custom_nets import envs
from tfa_custom_nets.networks import BranchingQNetwork, JointQNetwork


def test_joint_values_are_branch_sums_in_the_wrappers_index_order():
    model = branch_heads()
    joint_net = JointQNetwork(OBS, JOINT_ACTIONS, model, [3, 2, 4])
    branch_net = BranchingQNetwork(OBS, tensor_spec.BoundedTensorSpec((3,), tf.int64, 0, [2, 1, 3]), model)
    branch_net.create_variables()
    joint_net.create_variables()
    branch_net._model.set_weights(joint_net._model.get_weights())  # same heads in both views

    observations = tf.random.stateless_normal([5, 4], seed=[1, 2])
    joint, _ = joint_net(observations)
    branches = [q.numpy() for q in branch_net.branch_q_values(observations)]

    class Spaces(gym.Env):
        action_space = gym.spaces.MultiDiscrete([3, 2, 4])
        observation_space = gym.spaces.Box(0, 1, (1,))

    wrapper = envs.JointActionWrapper(Spaces())
    for index in range(24):
        a = wrapper.action(index)
        expected = branches[0][:, a[0]] + branches[1][:, a[1]] + branches[2][:, a[2]]
        np.testing.assert_allclose(joint[:, index].numpy(), expected, rtol=1e-6)


def test_too_many_joint_actions_points_to_branching():
    huge = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 33 ** 6 - 1)
    with pytest.raises(ValueError, match=r"1291467969 joint actions.*BranchingDqnAgent, which needs only 198"):
        JointQNetwork(OBS, huge, sequential(198), [33] * 6)


def test_spec_and_branch_sizes_must_agree():
    with pytest.raises(ValueError, match=r"covers \[0, 23\] but branch_sizes \[3, 3, 4\] give joint actions \[0, 35\]"):
        JointQNetwork(OBS, JOINT_ACTIONS, sequential(10), [3, 3, 4])
    multi = tensor_spec.BoundedTensorSpec((3,), tf.int64, 0, [2, 1, 3])
    with pytest.raises(ValueError, match=r"scalar int action spec.*JointActionWrapper"):
        JointQNetwork(OBS, multi, sequential(9), [3, 2, 4])


def test_heads_must_match_branch_sizes():
    with pytest.raises(ValueError, match=r"outputs \[\[3\], \[2\], \[4\]\]; branch_sizes \[4, 2, 3\]"):
        JointQNetwork(OBS, JOINT_ACTIONS, branch_heads(), [4, 2, 3])
