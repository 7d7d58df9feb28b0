"""The checks and conversions every network file shares: their one source.

Each file in this folder must copy alone into another TF-Agents project, so none imports this module.
Instead, `make vendor` (`tools/vendor_networks.py`) copies the helpers a file uses, and the helpers
those use, into one generated block at the end of that file, after its own logic; a test fails when a
block differs from this source. Edit here, run `make vendor`, and commit both.

The helpers may use only what every network file imports: numpy as np, tensorflow as tf,
tf_agents' `network` and `tensor_spec`, and the `ModelOrBuilder` alias each file defines.
"""

from typing import Callable, Union

import numpy as np
import tensorflow as tf
from tf_agents.networks import network
from tf_agents.specs import tensor_spec

ModelOrBuilder = Union[tf.keras.Model, Callable[[], tf.keras.Model]]


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


def _num_actions(action_spec, name: str) -> int:
    """Checks the action spec DqnAgent can use and returns its number of actions."""
    flat = tf.nest.flatten(action_spec)
    if len(flat) != 1:
        raise ValueError(
            f"{name}: expected one action spec, saw a nest of {len(flat)}: {action_spec}. "
            "Fix: flatten the action space to one Discrete space.")
    spec = flat[0]
    if not spec.dtype.is_integer:
        raise ValueError(
            f"{name}: expected an integer (Discrete) action spec, saw dtype {spec.dtype.name} "
            f"({spec}). DQN picks one of N actions. Fix: discretize the continuous action "
            "space: gymnasium.wrappers.DiscretizeAction(env, bins) for one Discrete index, or "
            "tfa_custom_nets.envs.DiscretizeActions(env, bins) and BranchingDqnAgent for one choice per dimension.")
    if spec.shape.rank != 0:
        raise ValueError(
            f"{name}: expected a scalar action spec (one Discrete choice), saw shape "
            f"{spec.shape.as_list()}. Fix: for several discrete choices at once use "
            "BranchingQNetwork, or a joint action index.")
    minimum, maximum = int(np.min(spec.minimum)), int(np.max(spec.maximum))
    if minimum != 0:
        raise ValueError(
            f"{name}: expected action minimum 0, saw {minimum} (maximum {maximum}). DqnAgent "
            "indexes Q-values by action. Fix: shift the actions to start at 0.")
    return maximum + 1


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
