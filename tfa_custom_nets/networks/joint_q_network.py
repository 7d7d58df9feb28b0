"""JointQNetwork: a branch model (one Q-head per action dimension) as joint Q-values for DqnAgent.

    observation
        |
    your tf.keras.Model: shared trunk -> [q_rotation (3), q_gripper (2)]
        |
    joint Q [B, 3 * 2]:  Q(j) = q_rotation[a_0(j)] + q_gripper[a_1(j)]

For the stock `DqnAgent` on a `MultiDiscrete(nvec)` env wrapped in
`tfa_custom_nets.envs.JointActionWrapper` (which makes the action one index over
all combinations, C order: the first branch varies slowest). The Q-value of a
combination is the sum of its branches' values, so the model keeps one head per
dimension (sum n_d outputs) while the agent sees prod n_d actions. That product grows
exponentially: past `max_joint_actions` the network refuses and points to
`BranchingQNetwork` with `BranchingDqnAgent`.

Copies follow `KerasQNetwork`'s rule: the model is cloned with fresh weights (or a
zero-argument builder is called again), so the target network never shares variables.

Usage:

    import tensorflow as tf
    from tf_agents.agents.dqn import dqn_agent
    from tf_agents.specs import tensor_spec
    from joint_q_network import JointQNetwork   # or tfa_custom_nets.networks

    inputs = tf.keras.Input(shape=(6,), name="observation")
    trunk = tf.keras.layers.Dense(64, activation="relu")(inputs)
    model = tf.keras.Model(inputs, [tf.keras.layers.Dense(3)(trunk), tf.keras.layers.Dense(2)(trunk)])

    observation_spec = tensor_spec.TensorSpec((6,), tf.float32)
    joint_action_spec = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 3 * 2 - 1)
    q_net = JointQNetwork(observation_spec, joint_action_spec, model, branch_sizes=[3, 2])
    agent = dqn_agent.DqnAgent(
        time_step_spec, joint_action_spec, q_network=q_net,
        optimizer=tf.keras.optimizers.Adam(1e-3))

This file imports only tensorflow, tf_agents and numpy: copy it into your project.
"""

from collections.abc import Sequence
from typing import Callable, Union

import numpy as np
import tensorflow as tf
from tf_agents.networks import network
from tf_agents.specs import tensor_spec

ModelOrBuilder = Union[tf.keras.Model, Callable[[], tf.keras.Model]]


def _joint_sizes(action_spec, branch_sizes, max_joint_actions: int, name: str) -> tuple:
    """Checks the scalar joint spec against the branch sizes; returns the sizes as a tuple."""
    flat = tf.nest.flatten(action_spec)
    spec = flat[0]
    if len(flat) != 1 or not spec.dtype.is_integer or spec.shape.rank != 0:
        raise ValueError(
            f"{name}: expected a scalar int action spec (the joint index), saw {action_spec}. Fix: wrap the "
            "MultiDiscrete env in tfa_custom_nets.envs.JointActionWrapper, or use BranchingQNetwork for a "
            "(D,) action spec.")
    sizes = tuple(int(n) for n in branch_sizes)
    if not sizes or min(sizes) < 1:
        raise ValueError(f"{name}: branch_sizes must be positive ints, one per action dimension, got {branch_sizes}.")
    joint = int(np.prod(sizes, dtype=np.float64))
    if joint > max_joint_actions:
        raise ValueError(
            f"{name}: {len(sizes)} branches of sizes {list(sizes)} make {joint} joint actions, more than "
            f"max_joint_actions={max_joint_actions}: too many to materialise. Fix: use BranchingQNetwork with "
            f"tfa_custom_nets.agents.BranchingDqnAgent, which needs only {sum(sizes)} outputs.")
    minimum, maximum = int(np.min(spec.minimum)), int(np.max(spec.maximum))
    if minimum != 0 or maximum + 1 != joint:
        raise ValueError(
            f"{name}: the action spec covers [{minimum}, {maximum}] but branch_sizes {list(sizes)} give joint "
            f"actions [0, {joint - 1}]. Fix: pass the JointActionWrapper env's action spec and its `nvec`.")
    return sizes


class JointQNetwork(network.Network):
    """Joint Q-values `[B, prod n_d]` as sums of a branch model's per-dimension values."""

    def __init__(self, input_tensor_spec, action_spec, model: ModelOrBuilder, branch_sizes: Sequence[int],
                 max_joint_actions: int = 10_000, name: str = "JointQNetwork"):
        """Builds the network and checks the model against the specs.

        Args:
          input_tensor_spec: observation `TensorSpec`, or a dict of them whose keys
            are the model's input names.
          action_spec: the scalar int joint-action spec, `[0, prod(branch_sizes) - 1]`.
          model: a Sequential or functional `tf.keras.Model` (cloned with fresh
            weights, here and on every `copy()`), or a zero-argument callable that
            returns a new model. It returns a list of D tensors `[B, n_d]`, or one
            tensor `[B, sum n_d]` (branch-major).
          branch_sizes: `[n_1, ..., n_D]`, the MultiDiscrete `nvec` the joint index ravels.
          max_joint_actions: refuse larger joint spaces (they are materialised per step).
          name: the network's name.

        Raises:
          ValueError: if the action spec, the model's inputs or its outputs do not
            fit; the message says what was expected and how to fix it.
        """
        _require_keras_2(name)
        _refuse_action_mask(input_tensor_spec, name)
        super().__init__(input_tensor_spec=input_tensor_spec, state_spec=(), name=name)
        self._branch_sizes = _joint_sizes(action_spec, branch_sizes, max_joint_actions, name)
        # Row j: the per-branch actions of joint index j (C order, as JointActionWrapper).
        self._combinations = np.stack(np.unravel_index(np.arange(int(np.prod(self._branch_sizes))),
                                                       self._branch_sizes), axis=1).astype(np.int32)
        self._model = _fresh_model(model, name)
        _check_inputs(self._model, input_tensor_spec, name)
        self._input_dtypes = _declared_input_dtypes(self._model, input_tensor_spec)
        self._check_output(input_tensor_spec, name)
        _check_own_variables(self._model, model, _model_inputs(
            tensor_spec.zero_spec_nest(input_tensor_spec, outer_dims=(1,)), self._input_dtypes), name)

    @property
    def branch_sizes(self) -> list:
        return list(self._branch_sizes)

    def _check_output(self, input_tensor_spec, name: str) -> None:
        dummy = tensor_spec.zero_spec_nest(input_tensor_spec, outer_dims=(1,))
        try:
            outputs = self._model(_model_inputs(dummy, self._input_dtypes), training=False)
        except (ValueError, TypeError, tf.errors.InvalidArgumentError) as error:
            raise ValueError(
                f"{name}: the model could not be called on an observation matching "
                f"{input_tensor_spec}: {error}. Fix: make the model's input shape and "
                "dtype match the observation spec.") from error
        sizes = list(self._branch_sizes)
        if isinstance(outputs, (list, tuple)):
            widths = [o.shape.as_list()[1:] for o in outputs]
            ok, first = widths == [[n] for n in sizes], outputs[0]
        else:
            widths, ok, first = outputs.shape.as_list()[1:], outputs.shape.as_list() == [1, sum(sizes)], outputs
        if not ok:
            raise ValueError(
                f"{name}: the model outputs {widths}; branch_sizes {sizes} need {len(sizes)} heads [B, n_d] in "
                f"branch order, or one tensor [B, {sum(sizes)}]. Fix: one Dense(n_d) head per action dimension.")
        if not first.dtype.is_floating:
            raise ValueError(f"{name}: model output dtype is {first.dtype.name}; expected float Q-values.")

    def create_variables(self, input_tensor_spec=None, **kwargs):
        """Builds the network from zeros (see `_output_spec_from_zeros`); returns its output spec."""
        return _output_spec_from_zeros(self, input_tensor_spec, **kwargs)

    def call(self, observation, step_type=None, network_state=(), training=False):
        del step_type  # feed-forward: no dependence on episode boundaries
        outputs = self._model(_model_inputs(observation, self._input_dtypes), training=training)
        heads = list(outputs) if isinstance(outputs, (list, tuple)) else tf.split(
            outputs, list(self._branch_sizes), axis=-1)
        joint = tf.add_n([tf.gather(q, self._combinations[:, d], axis=1) for d, q in enumerate(heads)])
        return joint, network_state


# ---- Generated by `make vendor` from tfa_custom_nets/networks/_shared.py: the checks every network file
# shares, copied so that this file stands alone. Edit them there and run `make vendor`; a test fails
# when this block and the source differ. ----

def _require_keras_2(name: str) -> None:
    """TF-Agents' networks are Keras 2 layers; on TensorFlow >= 2.16, `tf.keras` is Keras 3 unless
    the `tf-keras` package is installed and `TF_USE_LEGACY_KERAS=1` is set before TensorFlow loads."""
    version = getattr(tf.keras, "__version__", None) or "2"  # Keras 2 behind tf.keras has no __version__
    if int(version.split(".")[0]) >= 3:
        raise ImportError(
            f"{name}: tf.keras is Keras {version}, and TF-Agents' networks need Keras 2. Fix: "
            "`pip install tf-keras` (the version matching TensorFlow's) and set TF_USE_LEGACY_KERAS=1 before "
            "TensorFlow is first imported (`import os; os.environ['TF_USE_LEGACY_KERAS'] = '1'` at the top of "
            "your script, or in the shell).")


def _refuse_action_mask(input_tensor_spec, name: str) -> None:
    """An action mask is the agent's to apply (acting, exploring, targets), never a model input."""
    if isinstance(input_tensor_spec, dict) and "action_mask" in input_tensor_spec:
        raise ValueError(
            f"{name}: the observation spec has an 'action_mask' entry, which the model would take as an input "
            "and the agent would never apply. Fix: build the network with observation_spec['observation'] and "
            "give the agent observation_and_action_constraint_splitter=tfa_custom_nets.envs.action_mask_splitter "
            "(or a splitter of your own).")


def _fresh_model(model: ModelOrBuilder, name: str) -> tf.keras.Model:
    """A model with its own, newly initialised variables."""
    if isinstance(model, tf.keras.Model):
        if not (isinstance(model, tf.keras.Sequential) or model._is_graph_network):  # pylint: disable=protected-access
            raise ValueError(
                f"{name}: got a subclassed Keras model ({type(model).__name__}); it cannot be "
                "cloned, so the target network would share its weights. Expected a "
                "Sequential or functional model, or a zero-argument builder. Fix: pass "
                f"`model=lambda: {type(model).__name__}(...)` instead of the instance.")
        cloned = tf.keras.models.clone_model(model)
        _check_feed_forward(cloned, name)
        return cloned
    if callable(model):
        built = model()
        if not isinstance(built, tf.keras.Model):
            raise ValueError(
                f"{name}: the model builder returned {type(built).__name__}; expected a "
                "tf.keras.Model. Fix: make the builder `return tf.keras.Model(...)`.")
        _check_feed_forward(built, name)
        return built
    raise ValueError(
        f"{name}: `model` is {type(model).__name__}; expected a tf.keras.Model or a "
        "zero-argument callable that builds one.")


def _check_feed_forward(model: tf.keras.Model, name: str) -> None:
    """Refuses recurrent or stateful layers and a fixed batch size: this network is called on one
    observation per step, with no state carried between calls, at any batch size."""
    for inp in getattr(model, "inputs", None) or []:
        if inp.shape.rank and inp.shape[0] is not None:
            raise ValueError(
                f"{name}: the model's input {inp.name} has a fixed batch size of {inp.shape[0]}; the agent calls "
                "it on batches of any size. Fix: tf.keras.Input(shape=...) without batch_size.")
    for layer in model.submodules:
        if isinstance(layer, tf.keras.layers.RNN) or getattr(layer, "stateful", False):
            raise ValueError(
                f"{name}: layer {layer.name!r} ({type(layer).__name__}) is recurrent or stateful; this network "
                "is feed-forward (one observation per step, nothing carried between steps). Fix: TF-Agents' "
                "recurrent networks (QRnnNetwork, ActorDistributionRnnNetwork, ValueRnnNetwork, CriticRnnNetwork), "
                "or a feed-forward model over stacked frames (gymnasium.wrappers.FrameStackObservation).")


def _check_own_variables(built: tf.keras.Model, model: ModelOrBuilder, inputs, name: str) -> None:
    """Refuses a model that uses variables it does not own: a layer built outside it (a Lambda that
    closes over it, a custom layer or builder holding one) never trains with the model and would be
    shared by the target network. Two checks: variables the forward pass reads that the model does
    not hold, and variables that a second fresh build has in common with the first."""
    with tf.GradientTape() as tape:
        built(inputs, training=False)
    own = {id(v) for v in built.variables}
    foreign = [v.name for v in tape.watched_variables() if id(v) not in own]
    twin = _fresh_model(model, name)
    twin(inputs, training=False)
    foreign += [v.name for v in twin.variables if id(v) in own]
    if foreign:
        raise ValueError(
            f"{name}: the model uses variables that a fresh copy of it does not get its own of: "
            f"{sorted(set(foreign))[:4]}. A layer created outside the model never trains with it and the "
            "target network would share it. Fix: create every layer inside the model (or inside the "
            "builder you pass), not once outside it.")


def _check_inputs(model: tf.keras.Model, input_tensor_spec, name: str) -> None:
    """Checks a functional/Sequential model's declared inputs against the spec."""
    if not getattr(model, "_is_graph_network", False) or not model.inputs:
        return  # subclassed: no declared inputs; the forward pass checks the rest
    specs = input_tensor_spec
    if isinstance(specs, dict):
        wanted = sorted(specs)
        names = sorted(model.input_names)
        if wanted != names:
            raise ValueError(
                f"{name}: the observation has keys {wanted} but the model's inputs are "
                f"named {names}. Fix: name each tf.keras.Input after its observation key, "
                "e.g. tf.keras.Input(shape, name='image').")
        pairs = [(k, specs[k], model.inputs[model.input_names.index(k)]) for k in wanted]
    else:
        flat = tf.nest.flatten(specs)
        if len(flat) != 1 or len(model.inputs) != 1:
            raise ValueError(
                f"{name}: the observation has {len(flat)} array(s) but the model takes "
                f"{len(model.inputs)} input(s). Fix: use a dict observation whose keys "
                "name the model's inputs, or a single-input model.")
        pairs = [("observation", flat[0], model.inputs[0])]
    for key, spec, model_input in pairs:
        expected = tf.TensorShape([None]).concatenate(spec.shape)
        if not expected.is_compatible_with(model_input.shape):
            raise ValueError(
                f"{name}: observation '{key}' has shape {spec.shape.as_list()} per sample, but "
                f"the model input expects {model_input.shape.as_list()[1:]}. Fix: "
                f"tf.keras.Input(shape={tuple(spec.shape.as_list())}), or reshape the "
                "observation with a gymnasium wrapper.")
        input_dtype = tf.as_dtype(model_input.dtype)
        if (not spec.dtype.is_floating or not input_dtype.is_floating) and spec.dtype != input_dtype:
            hint = (" For pixels: tf.keras.Input(shape, dtype='uint8') followed by "
                    "tf.keras.layers.Rescaling(1 / 255)." if spec.dtype == tf.uint8 else "")
            raise ValueError(
                f"{name}: observation '{key}' is {spec.dtype.name} but the model input is "
                f"{input_dtype.name}. Non-float observations are not cast silently. Fix: "
                f"declare tf.keras.Input(..., dtype='{spec.dtype.name}') and convert inside "
                f"the model.{hint}")


def _declared_input_dtypes(model: tf.keras.Model, input_tensor_spec):
    """The float dtypes the model's inputs declare, to cast float observations to (float64 observations into
    a float32 model); None for a subclassed model, which declares no inputs."""
    if not getattr(model, "_is_graph_network", False) or not model.inputs:
        return None
    if isinstance(input_tensor_spec, dict):
        return {k: model.inputs[model.input_names.index(k)].dtype for k in input_tensor_spec}
    return model.inputs[0].dtype


def _model_inputs(observation, dtypes):
    """The observation cast to the dtypes `_declared_input_dtypes` found (unchanged where they agree)."""
    if dtypes is None:
        return observation

    def cast(value, dtype):
        return tf.cast(value, dtype) if value.dtype != dtype else value

    if isinstance(observation, dict):
        return {k: cast(v, dtypes[k]) for k, v in observation.items()}
    return cast(observation, dtypes)


def _output_spec_from_zeros(net: network.Network, input_tensor_spec=None, **kwargs):
    """Builds `net` once and returns its output spec, from a call on zeros: what a network's
    `create_variables` returns. TF-Agents' own `create_variables` calls the network on a random sample
    of the input spec instead, and with NumPy 2 (the TF >= 2.16 stacks) that sampler overflows on uint8
    specs bounded at 255 (`np.uint8(255) + 1 == 0`: "Need minval < maxval")."""
    if net._network_output_spec is None:  # pylint: disable=protected-access
        spec = net.input_tensor_spec if input_tensor_spec is None else input_tensor_spec
        zeros = tensor_spec.zero_spec_nest(spec, outer_dims=(1,))
        outputs, _ = net(zeros, step_type=tf.zeros((1,), tf.int32), **kwargs)
        net._network_output_spec = tf.nest.map_structure(  # pylint: disable=protected-access
            lambda t: tf.TensorSpec(t.shape[1:], t.dtype), outputs)
    return net._network_output_spec  # pylint: disable=protected-access
