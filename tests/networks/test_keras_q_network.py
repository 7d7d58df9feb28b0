import numpy as np
import pytest
import tensorflow as tf
from tf_agents.agents.dqn import dqn_agent
from tf_agents.policies import policy_saver
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts
from tf_agents.utils import common

from tfa_custom_nets.networks import KerasQNetwork

OBS = tensor_spec.TensorSpec((4,), tf.float32, name="observation")
ACTIONS = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 2, name="action")
DICT_OBS = {"image": tensor_spec.TensorSpec((6, 6, 1), tf.uint8),
            "vector": tensor_spec.TensorSpec((3,), tf.float32)}


def sequential():
    return tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(16, activation="relu"),
                                tf.keras.layers.Dense(3)])


def functional_shared_layer():
    # One Dense layer applied twice: clone_model must keep the sharing inside the copy.
    inputs = tf.keras.Input((4,), name="observation")
    shared = tf.keras.layers.Dense(4, activation="tanh")
    x = shared(shared(inputs))
    return tf.keras.Model(inputs, tf.keras.layers.Dense(3)(x))


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
    x = tf.keras.layers.Rescaling(1 / 255)(image)
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Concatenate()([x, vector])
    return tf.keras.Model([image, vector], tf.keras.layers.Dense(3)(tf.keras.layers.Dense(8)(x)))


MODELS = {
    "sequential": (OBS, sequential()),
    "functional_shared_layer": (OBS, functional_shared_layer()),
    "subclassed_builder": (OBS, Subclassed),
    "dict_input": (DICT_OBS, dict_input()),
}


def sample_observations(spec, batch):
    return tensor_spec.sample_spec_nest(spec, seed=1, outer_dims=(batch,))


@pytest.fixture(params=sorted(MODELS))
def case(request):
    return MODELS[request.param]


def test_output_is_batch_by_num_actions(case):
    spec, model = case
    net = KerasQNetwork(spec, ACTIONS, model)
    q_values, state = net(sample_observations(spec, 5))
    assert q_values.shape == (5, 3) and state == ()


def test_copy_has_independent_fresh_weights(case):
    spec, model = case
    net = KerasQNetwork(spec, ACTIONS, model)
    net.create_variables()
    target = net.copy(name="target")
    target.create_variables()
    common.check_no_shared_variables(net, target)  # raises if any variable is shared
    assert len(net.variables) == len(target.variables) > 0
    assert any(not np.array_equal(a.numpy(), b.numpy()) for a, b in zip(net.variables, target.variables))


def test_wrapper_does_not_use_the_model_it_was_given():
    model = functional_shared_layer()
    net = KerasQNetwork(OBS, ACTIONS, model)
    net.create_variables()
    given = {id(v) for v in model.variables}
    assert not given & {id(v) for v in net.variables}


@pytest.mark.parametrize("agent_cls", [dqn_agent.DqnAgent, dqn_agent.DdqnAgent])
def test_builds_and_trains_inside_agent(case, agent_cls):
    spec, model = case
    time_step_spec = ts.time_step_spec(spec)
    net = KerasQNetwork(spec, ACTIONS, model)
    agent = agent_cls(time_step_spec, ACTIONS, q_network=net, optimizer=tf.keras.optimizers.Adam(0.01),
                      target_update_period=1000)
    agent.initialize()
    online_before = [v.numpy() for v in net.trainable_variables]
    target_before = [v.numpy() for v in agent._target_q_network.variables]  # noqa: SLF001

    batch = 4
    step = ts.TimeStep(tf.ones([batch, 2], tf.int32), tf.ones([batch, 2]), tf.ones([batch, 2]),
                       tf.nest.map_structure(lambda o: tf.stack([o, o], 1), sample_observations(spec, batch)))
    from tf_agents.trajectories import trajectory

    experience = trajectory.Trajectory(step.step_type, step.observation, tf.ones([batch, 2], tf.int64),
                                       (), step.step_type, step.reward, step.discount)
    agent.train(experience)
    assert any(not np.allclose(a, v.numpy()) for a, v in zip(online_before, net.trainable_variables))
    # The target moves only on its update period, not on every train step.
    for a, v in zip(target_before, agent._target_q_network.variables):  # noqa: SLF001
        np.testing.assert_array_equal(a, v.numpy())


def test_policy_saver_round_trip_gives_the_same_greedy_actions(case, tmp_path):
    spec, model = case
    time_step_spec = ts.time_step_spec(spec)
    agent = dqn_agent.DqnAgent(time_step_spec, ACTIONS, q_network=KerasQNetwork(spec, ACTIONS, model),
                               optimizer=tf.keras.optimizers.Adam(1e-3))
    agent.initialize()
    policy_saver.PolicySaver(agent.policy, batch_size=None).save(str(tmp_path / "policy"))
    loaded = tf.saved_model.load(str(tmp_path / "policy"))
    step = ts.restart(sample_observations(spec, 16), batch_size=16)
    np.testing.assert_array_equal(agent.policy.action(step).action.numpy(), loaded.action(step).action.numpy())


# ---- bad input: each fails at construction with a message that says how to fix it ----

def two_heads():
    inputs = tf.keras.Input((4,))
    x = tf.keras.layers.Dense(8)(inputs)
    return tf.keras.Model(inputs, [tf.keras.layers.Dense(3)(x), tf.keras.layers.Dense(2)(x)])


@pytest.mark.parametrize("spec, action_spec, model, message", [
    (OBS, ACTIONS, two_heads(), r"2 outputs; expected one tensor \[B, 3\].*BranchingQNetwork"),
    (OBS, tensor_spec.BoundedTensorSpec((), tf.int64, 1, 3), sequential(), r"expected action minimum 0, saw 1"),
    (OBS, tensor_spec.BoundedTensorSpec((2,), tf.int64, 0, 2), sequential(),
     r"expected a scalar action spec.*saw shape \[2\].*BranchingQNetwork"),
    (OBS, tensor_spec.BoundedTensorSpec((), tf.float32, -1.0, 1.0), sequential(),
     r"expected an integer \(Discrete\) action spec.*DiscretizeAction"),
    (tensor_spec.TensorSpec((5,), tf.float32), ACTIONS, sequential(),
     r"observation 'observation' has shape \[5\].*expects \[4\]"),
    (OBS, tensor_spec.BoundedTensorSpec((), tf.int64, 0, 1), sequential(),
     r"output has shape \[B, 3\], expected \[B, 2\].*Dense\(2\)"),
    ({"image": DICT_OBS["image"]}, ACTIONS, dict_input(),
     r"observation has keys \['image'\] but the model's inputs are named \['image', 'vector'\]"),
    (tensor_spec.TensorSpec((6, 6, 1), tf.uint8), ACTIONS,
     tf.keras.Sequential([tf.keras.Input((6, 6, 1)), tf.keras.layers.Flatten(), tf.keras.layers.Dense(3)]),
     r"'observation' is uint8 but the model input is float32.*Rescaling"),
    (OBS, ACTIONS, Subclassed(), r"subclassed Keras model \(Subclassed\).*model=lambda: Subclassed"),
    (OBS, ACTIONS, lambda: "not a model", r"builder returned str"),
])
def test_bad_input_is_refused_with_a_fix(spec, action_spec, model, message):
    with pytest.raises(ValueError, match=message):
        KerasQNetwork(spec, action_spec, model)


def test_builder_that_returns_one_shared_model_is_refused_by_dqn_agent():
    shared = sequential()
    net = KerasQNetwork(OBS, ACTIONS, lambda: shared)
    with pytest.raises(ValueError, match="shares weights with the original network"):
        dqn_agent.DqnAgent(ts.time_step_spec(OBS), ACTIONS, q_network=net,
                           optimizer=tf.keras.optimizers.Adam(1e-3))
