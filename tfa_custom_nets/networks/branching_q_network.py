"""BranchingQNetwork: a Keras model with one Q-head per action dimension (BDQ).

    observation (array, or dict of arrays matched to model inputs by name)
        |
    your tf.keras.Model: shared trunk -> [q_rotation, q_elbow, q_gripper]
        |                 (D heads [B, n_d], or one tensor [B, sum n_d])
    q_values [B, D, max n_d]   (entries past n_d padded with -1e9: never chosen)

For a gymnasium `MultiDiscrete(nvec)` action (an int action spec of shape `(D,)`,
minimum 0, maximum `nvec - 1`) and `tfa_custom_nets.agents.BranchingDqnAgent`
(Tavakoli et al. 2018, arXiv:1711.08946). With `dueling=True` the model also returns
a state value as its last output (`[B, 1]`, or the last column of the one tensor),
and each branch's Q is `V(s) + A_d(s, a) - mean_a A_d(s, a)`.

Copies follow `KerasQNetwork`'s rule: the model is cloned with fresh weights (or a
zero-argument builder is called again), so the target network never shares variables.

Usage:

    import tensorflow as tf
    from tf_agents.specs import tensor_spec
    from branching_q_network import BranchingQNetwork   # or tfa_custom_nets.networks

    inputs = tf.keras.Input(shape=(6,), name="observation")
    trunk = tf.keras.layers.Dense(64, activation="relu")(inputs)
    q_rotation = tf.keras.layers.Dense(3, name="rotation")(trunk)
    q_gripper = tf.keras.layers.Dense(2, name="gripper")(trunk)
    model = tf.keras.Model(inputs, [q_rotation, q_gripper])

    observation_spec = tensor_spec.TensorSpec((6,), tf.float32)
    action_spec = tensor_spec.BoundedTensorSpec((2,), tf.int64, 0, [2, 1])   # MultiDiscrete([3, 2])
    q_net = BranchingQNetwork(observation_spec, action_spec, model)
    q_values, _ = q_net(tf.zeros([1, 6]))   # [1, 2, 3]; q_values[0, 1, 2] is padding
    # then: BranchingDqnAgent(time_step_spec, action_spec, q_network=q_net, optimizer=...)

With action masks, build the network on the observation without its mask and give
`BranchingDqnAgent` the splitter (a flat mask of `sum(n_d)` entries, branch 0's first): it masks
each branch's acting, exploration and double-Q target. A spec with an `action_mask` entry is
refused: the model would take the mask as an input and the agent would never apply it.

This file imports only tensorflow, tf_agents and numpy: copy it into your project.
"""

from typing import Callable, Union

import numpy as np
import tensorflow as tf
from tf_agents.networks import network
from tf_agents.specs import tensor_spec

ModelOrBuilder = Union[tf.keras.Model, Callable[[], tf.keras.Model]]

PADDING_Q = -1e9
"""Q-value of the padded entries past a branch's size: below any real value, finite."""


def _branch_sizes(action_spec, name: str) -> tuple[int, ...]:
    """Checks a `(D,)` int action spec with minimum 0 and returns `[n_1, ..., n_D]`."""
    flat = tf.nest.flatten(action_spec)
    if len(flat) != 1:
        raise ValueError(
            f"{name}: expected one action spec, saw a nest of {len(flat)}: {action_spec}. "
            "Fix: use one MultiDiscrete space for all the discrete choices.")
    spec = flat[0]
    if not spec.dtype.is_integer:
        raise ValueError(
            f"{name}: expected an integer (MultiDiscrete) action spec, saw dtype {spec.dtype.name} "
            f"({spec}). Fix: discretize the continuous action space with "
            "tfa_custom_nets.envs.DiscretizeActions(env, bins).")
    if spec.shape.rank != 1:
        raise ValueError(
            f"{name}: expected an action spec of shape (D,) (one entry per branch), saw shape "
            f"{spec.shape.as_list()}. Fix: for one discrete choice use KerasQNetwork; flatten "
            "a nested MultiDiscrete to (D,).")
    branches = spec.shape[0]
    minimum = np.broadcast_to(spec.minimum, (branches,))
    maximum = np.broadcast_to(spec.maximum, (branches,))
    if np.any(minimum != 0):
        raise ValueError(
            f"{name}: expected action minimum 0 in every branch, saw {minimum.tolist()}. A "
            "MultiDiscrete with a non-zero start indexes Q-values wrongly. Fix: load the env with "
            "tfa_custom_nets.envs.load (it shifts `start` to 0), or subtract the start yourself.")
    return tuple(int(m) + 1 for m in maximum)


class BranchingQNetwork(network.Network):
    """Wraps a Keras model with one Q-head per action dimension; outputs `[B, D, max n_d]`."""

    def __init__(self, input_tensor_spec, action_spec, model: ModelOrBuilder, dueling: bool = False,
                 name: str = "BranchingQNetwork"):
        """Builds the network and checks the model against the specs.

        Args:
          input_tensor_spec: observation `TensorSpec`, or a dict of them whose keys
            are the model's input names.
          action_spec: int `BoundedTensorSpec` of shape `(D,)`, minimum 0, maximum
            `n_d - 1` per branch (branch sizes may differ).
          model: a Sequential or functional `tf.keras.Model` (cloned with fresh
            weights, here and on every `copy()`), or a zero-argument callable that
            returns a new model (needed for subclassed models). It returns a list of
            D tensors `[B, n_d]`, or one tensor `[B, sum n_d]` (branch-major).
          dueling: the model also returns a state value `[B, 1]` after the branch
            heads (or as the one tensor's last column); the heads are advantages.
          name: the network's name.

        Raises:
          ValueError: if the action spec, the model's inputs or its outputs do not
            fit; the message says what was expected and how to fix it.
        """
        _require_keras_2(name)
        _refuse_action_mask(input_tensor_spec, name)
        super().__init__(input_tensor_spec=input_tensor_spec, state_spec=(), name=name)
        self._branch_sizes = _branch_sizes(action_spec, name)
        self._dueling = bool(dueling)
        self._model = _fresh_model(model, name)
        _check_inputs(self._model, input_tensor_spec, name)
        self._input_dtypes = _declared_input_dtypes(self._model, input_tensor_spec)
        self._check_output(input_tensor_spec, name)
        _check_own_variables(self._model, model, _model_inputs(
            tensor_spec.zero_spec_nest(input_tensor_spec, outer_dims=(1,)), self._input_dtypes), name)

    @property
    def branch_sizes(self) -> list[int]:
        """Actions per branch, `[n_1, ..., n_D]`."""
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
        sizes, value = list(self._branch_sizes), [1] if self._dueling else []
        heads = f"{len(sizes)} heads [B, n_d] with n_d = {sizes}" + (" and a value head [B, 1]" if value else "")
        if isinstance(outputs, dict):
            raise ValueError(f"{name}: the model returns a dict; expected a list of {heads}.")
        if isinstance(outputs, (list, tuple)):
            widths = [o.shape.as_list()[1:] for o in outputs]
            if widths != [[n] for n in sizes + value]:
                raise ValueError(
                    f"{name}: the model has {len(widths)} heads of shapes {[[None, *w] for w in widths]}; the "
                    f"action spec has {len(sizes)} branches of sizes {sizes}, so expected {heads}, in branch "
                    "order. Fix: one Dense(n_d) head per action dimension, or an action spec (MultiDiscrete nvec) that "
                    "matches the heads.")
            outputs = outputs[0]
        else:
            width = sum(sizes) + len(value)
            if outputs.shape.as_list() != [1, width]:
                raise ValueError(
                    f"{name}: model output has shape [B, {', '.join(map(str, outputs.shape.as_list()[1:]))}]; "
                    f"expected {heads}, or one tensor [B, {width}] (the heads concatenated in branch order"
                    f"{', value last' if value else ''}). Fix: end the model with one Dense(n_d) head per branch.")
        if not outputs.dtype.is_floating:
            raise ValueError(f"{name}: model output dtype is {outputs.dtype.name}; expected float Q-values.")

    def branch_q_values(self, observation, training=False) -> list[tf.Tensor]:
        """The D per-branch Q-value tensors `[B, n_d]`, unpadded."""
        outputs = self._model(_model_inputs(observation, self._input_dtypes), training=training)
        if isinstance(outputs, (list, tuple)):
            heads = list(outputs)
        else:
            heads = tf.split(outputs, list(self._branch_sizes) + ([1] if self._dueling else []), axis=-1)
        if not self._dueling:
            return heads
        value = heads.pop()
        return [value + a - tf.reduce_mean(a, axis=-1, keepdims=True) for a in heads]

    def create_variables(self, input_tensor_spec=None, **kwargs):
        """Builds the network from zeros (see `_output_spec_from_zeros`); returns its output spec."""
        return _output_spec_from_zeros(self, input_tensor_spec, **kwargs)

    def call(self, observation, step_type=None, network_state=(), training=False):
        del step_type  # feed-forward: no dependence on episode boundaries
        widest = max(self._branch_sizes)
        padded = [tf.pad(q, [[0, 0], [0, widest - n]], constant_values=PADDING_Q)
                  for q, n in zip(self.branch_q_values(observation, training), self._branch_sizes)]
        return tf.stack(padded, axis=1), network_state


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
