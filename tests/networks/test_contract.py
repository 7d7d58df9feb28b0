"""The contract every network class keeps, for every agent it is meant for.

Output shape; `copy()` shares no variables and starts from different weights; the
network builds inside the agent; one train step moves the online weights and leaves
the target's until its update; a PolicySaver round trip gives the same greedy actions.
"""

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

from tfa_custom_nets.agents import BranchingDqnAgent
from tfa_custom_nets.models import dense_q_model
from tfa_custom_nets.networks import BranchingQNetwork, JointQNetwork, KerasCategoricalQNetwork, KerasQNetwork

OBS = tensor_spec.TensorSpec((4,), tf.float32, name="observation")
ACTIONS = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 2, name="action")
DICT_OBS = {"image": tensor_spec.TensorSpec((6, 6, 1), tf.uint8),
            "vector": tensor_spec.TensorSpec((3,), tf.float32)}
ATOMS = 11
BRANCH_ACTIONS = tensor_spec.BoundedTensorSpec((3,), tf.int64, 0, [2, 1, 3], name="action")  # sizes 3, 2, 4
JOINT_ACTIONS = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 3 * 2 * 4 - 1, name="action")


def sequential(width=3):
    return tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(16, activation="relu"),
                                tf.keras.layers.Dense(width)])


def functional_shared_layer():
    # One Dense layer applied twice: the clone must keep the sharing inside the copy.
    inputs = tf.keras.Input((4,), name="observation")
    shared = tf.keras.layers.Dense(4, activation="tanh")
    return tf.keras.Model(inputs, tf.keras.layers.Dense(3)(shared(shared(inputs))))


class Subclassed(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = tf.keras.layers.Dense(16, activation="relu")
        self.out = tf.keras.layers.Dense(3)

    def call(self, inputs, training=False):
        return self.out(self.hidden(inputs))


def dict_input():
    image = tf.keras.Input((6, 6, 1), dtype="uint8", name="image")
    vector = tf.keras.Input((3,), name="vector")
    x = tf.keras.layers.Flatten()(tf.keras.layers.Rescaling(1 / 255)(image))
    x = tf.keras.layers.Concatenate()([x, vector])
    return tf.keras.Model([image, vector], tf.keras.layers.Dense(3)(tf.keras.layers.Dense(8)(x)))


def shaped_logits():
    inputs = tf.keras.Input((4,), name="observation")
    x = tf.keras.layers.Dense(3 * ATOMS)(tf.keras.layers.Dense(16, "relu")(inputs))
    return tf.keras.Model(inputs, tf.keras.layers.Reshape((3, ATOMS))(x))


def branch_heads(value_head=False):
    inputs = tf.keras.Input((4,), name="observation")
    trunk = tf.keras.layers.Dense(16, activation="relu")(inputs)
    heads = [tf.keras.layers.Dense(n)(trunk) for n in (3, 2, 4)]
    return tf.keras.Model(inputs, heads + ([tf.keras.layers.Dense(1)(trunk)] if value_head else []))


def q_network(spec, model):
    return lambda: KerasQNetwork(spec, ACTIONS, model)


def make_dqn(cls, actions=ACTIONS):
    def make(net, spec):
        return cls(ts.time_step_spec(spec), actions, q_network=net, optimizer=tf.keras.optimizers.Adam(0.01),
                   target_update_period=1000)
    return make


def make_bdq(net, spec):
    return BranchingDqnAgent(ts.time_step_spec(spec), BRANCH_ACTIONS, q_network=net,
                             optimizer=tf.keras.optimizers.Adam(0.01), target_update_period=1000)


def make_c51(net, spec):
    return categorical_dqn_agent.CategoricalDqnAgent(
        ts.time_step_spec(spec), ACTIONS, categorical_q_network=net, optimizer=tf.keras.optimizers.Adam(0.01),
        min_q_value=-10.0, max_q_value=10.0, target_update_period=1000)


NETWORKS = {  # name: (observation spec, network factory, output shape per sample)
    "keras_q/sequential": (OBS, q_network(OBS, sequential()), (3,)),
    "keras_q/functional_shared_layer": (OBS, q_network(OBS, functional_shared_layer()), (3,)),
    "keras_q/subclassed_builder": (OBS, q_network(OBS, Subclassed), (3,)),
    "keras_q/dict_input": (DICT_OBS, q_network(DICT_OBS, dict_input()), (3,)),
    "keras_q/dueling_builder": (OBS, q_network(OBS, lambda: dense_q_model(OBS, ACTIONS, [8], dueling=True)), (3,)),
    "categorical/flat_logits": (OBS, lambda: KerasCategoricalQNetwork(OBS, ACTIONS, sequential(3 * ATOMS),
                                                                      num_atoms=ATOMS), (3, ATOMS)),
    "categorical/shaped_logits": (OBS, lambda: KerasCategoricalQNetwork(OBS, ACTIONS, shaped_logits(),
                                                                        num_atoms=ATOMS), (3, ATOMS)),
    "branching/list_of_heads": (OBS, lambda: BranchingQNetwork(OBS, BRANCH_ACTIONS, branch_heads()), (3, 4)),
    "branching/one_tensor": (OBS, lambda: BranchingQNetwork(OBS, BRANCH_ACTIONS, sequential(9)), (3, 4)),
    "branching/dueling": (OBS, lambda: BranchingQNetwork(OBS, BRANCH_ACTIONS, branch_heads(value_head=True),
                                                         dueling=True), (3, 4)),
    "joint/list_of_heads": (OBS, lambda: JointQNetwork(OBS, JOINT_ACTIONS, branch_heads(), [3, 2, 4]), (24,)),
    "joint/one_tensor": (OBS, lambda: JointQNetwork(OBS, JOINT_ACTIONS, sequential(9), [3, 2, 4]), (24,)),
}
AGENTS = {"keras_q": {"DqnAgent": make_dqn(dqn_agent.DqnAgent), "DdqnAgent": make_dqn(dqn_agent.DdqnAgent)},
          "categorical": {"CategoricalDqnAgent": make_c51}, "branching": {"BranchingDqnAgent": make_bdq},
          "joint": {"DqnAgent": make_dqn(dqn_agent.DqnAgent, JOINT_ACTIONS),
                    "DdqnAgent": make_dqn(dqn_agent.DdqnAgent, JOINT_ACTIONS)}}
CASES = [(name, agent) for name in NETWORKS for agent in AGENTS[name.split("/")[0]]]


def sample(spec, batch, seed=1):
    """Observations in a sane range: an unbounded float spec would sample values near 1e38, and TF-Agents'
    sampler overflows on a uint8 spec bounded at 255 under NumPy 2 (so: pixels up to 254)."""
    def bounded(s):
        if isinstance(s, tensor_spec.BoundedTensorSpec):
            return s
        low, high = (-1.0, 1.0) if s.dtype.is_floating else (0, 254)
        return tensor_spec.BoundedTensorSpec(s.shape, s.dtype, low, high)
    return tensor_spec.sample_spec_nest(tf.nest.map_structure(bounded, spec), seed=seed, outer_dims=(batch,))


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_output_shape_and_independent_fresh_copies(name):
    spec, make_net, shape = NETWORKS[name]
    net = make_net()
    output, state = net(sample(spec, 5))
    assert output.shape == (5, *shape) and state == ()
    target = net.copy(name="target")
    target.create_variables()
    common.check_no_shared_variables(net, target)  # raises if any variable is shared
    assert any(not np.array_equal(a.numpy(), b.numpy()) for a, b in zip(net.variables, target.variables))


@pytest.mark.parametrize("name, agent_name", CASES)
def test_trains_in_agent_target_waits_and_policy_saver_round_trips(name, agent_name, tmp_path):
    spec, make_net, _ = NETWORKS[name]
    net = make_net()
    agent = AGENTS[name.split("/")[0]][agent_name](net, spec)
    agent.initialize()
    online_before = [v.numpy() for v in net.trainable_variables]
    target_before = [v.numpy() for v in agent._target_q_network.variables]  # noqa: SLF001

    batch, ones = 4, tf.ones([4, 2])
    observations = tf.nest.map_structure(lambda o: tf.stack([o, o], 1), sample(spec, batch))
    actions = tf.ones([batch, 2, *agent.action_spec.shape], tf.int64)
    experience = trajectory.Trajectory(tf.ones([batch, 2], tf.int32), observations, actions,
                                       (), tf.ones([batch, 2], tf.int32), ones, ones)
    agent.train(experience)
    assert any(not np.allclose(a, v.numpy()) for a, v in zip(online_before, net.trainable_variables))
    for a, v in zip(target_before, agent._target_q_network.variables):  # noqa: SLF001
        np.testing.assert_array_equal(a, v.numpy())  # the target moves only on its update period

    policy_saver.PolicySaver(agent.policy, batch_size=None).save(str(tmp_path / "policy"))
    loaded = tf.saved_model.load(str(tmp_path / "policy"))
    step = ts.restart(sample(spec, 16, seed=3), batch_size=16)
    np.testing.assert_array_equal(agent.policy.action(step).action.numpy(), loaded.action(step).action.numpy())


NETWORK_CLASSES = {  # name: (output width of a one-tensor model, network from a model or builder)
    "keras_q": (3, lambda model: KerasQNetwork(OBS, ACTIONS, model)),
    "categorical": (3 * ATOMS, lambda model: KerasCategoricalQNetwork(OBS, ACTIONS, model, num_atoms=ATOMS)),
    "branching": (9, lambda model: BranchingQNetwork(OBS, BRANCH_ACTIONS, model)),
    "joint": (9, lambda model: JointQNetwork(OBS, JOINT_ACTIONS, model, [3, 2, 4])),
}


def lambda_over_outside_layer(width):
    outside = tf.keras.layers.Dense(width)  # built outside the model; the Lambda only closes over it
    outside.build((None, 4))
    inputs = tf.keras.Input((4,), name="observation")
    return tf.keras.Model(inputs, tf.keras.layers.Lambda(lambda x: outside(x))(inputs))


def builder_holding_outside_layer(width):
    outside = tf.keras.layers.Dense(width)  # every model the builder makes holds this one layer
    return lambda: tf.keras.Sequential([tf.keras.Input((4,)), outside])


@pytest.mark.parametrize("kind", sorted(NETWORK_CLASSES))
@pytest.mark.parametrize("make_model", [lambda_over_outside_layer, builder_holding_outside_layer])
def test_a_model_using_a_layer_it_does_not_own_is_refused(kind, make_model):
    width, make_net = NETWORK_CLASSES[kind]
    with pytest.raises(ValueError, match=r"uses variables that a fresh copy of it does not get its own of: .*"
                                         r"Fix: create every layer inside the model"):
        make_net(make_model(width))


def stateful_lstm(width):
    return tf.keras.Sequential([tf.keras.Input((4,), batch_size=None), tf.keras.layers.Reshape((1, 4)),
                                tf.keras.layers.LSTM(8), tf.keras.layers.Dense(width)])


def fixed_batch(width):
    inputs = tf.keras.Input((4,), batch_size=2, name="observation")
    return tf.keras.Model(inputs, tf.keras.layers.Dense(width)(inputs))


@pytest.mark.parametrize("kind", sorted(NETWORK_CLASSES))
@pytest.mark.parametrize("make_model, message", [
    (stateful_lstm, r"layer 'lstm.*' \(LSTM\) is recurrent or stateful.*QRnnNetwork"),
    (fixed_batch, r"has a fixed batch size of 2.*without batch_size"),
])
def test_recurrent_and_fixed_batch_models_are_refused_at_construction(kind, make_model, message):
    width, make_net = NETWORK_CLASSES[kind]
    with pytest.raises(ValueError, match=message):
        make_net(make_model(width))
