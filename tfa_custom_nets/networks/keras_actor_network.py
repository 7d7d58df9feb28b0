"""KerasActorNetwork: a Keras model as the deterministic actor of TD3 or DDPG.

    observation (array, or dict of arrays matched to model inputs by name)
        |
    your tf.keras.Model  ->  [B, n]
        |
    action [B, n]: tanh, scaled to the action spec's bounds (squash=True, as TF-Agents' ActorNetwork),
                   or the model's output as it is (squash=False; the policy clips it to the bounds)

The agents build their target actors with `copy()`; the model is cloned with fresh weights here
and on every copy, so no two actors share a variable.

Usage:

    import tensorflow as tf
    from tf_agents.agents.td3 import td3_agent
    from keras_actor_network import KerasActorNetwork   # or tfa_custom_nets.networks

    def actor():
        inputs = tf.keras.Input((3,), name="observation")
        hidden = tf.keras.layers.Dense(256, activation="relu")(inputs)
        return tf.keras.Model(inputs, tf.keras.layers.Dense(1)(hidden))

    actor_net = KerasActorNetwork(observation_spec, action_spec, actor)
    agent = td3_agent.Td3Agent(time_step_spec, action_spec, actor_network=actor_net, critic_network=critic_net,
                               actor_optimizer=..., critic_optimizer=...)

This file imports only tensorflow, tf_agents and numpy: copy it into your project.
"""

from typing import Callable, Union

import numpy as np
import tensorflow as tf
from tf_agents.networks import network
from tf_agents.networks import utils as network_utils
from tf_agents.specs import tensor_spec
from tf_agents.utils import common, nest_utils

ModelOrBuilder = Union[tf.keras.Model, Callable[[], tf.keras.Model]]


class KerasActorNetwork(network.Network):
    """Wraps a Keras model mapping observations to one continuous action each."""

    def __init__(self, input_tensor_spec, action_spec, model: ModelOrBuilder, squash: bool = True,
                 name: str = "KerasActorNetwork"):
        """Args:
          input_tensor_spec: observation `TensorSpec`, or a dict of them whose keys name the model's inputs.
          action_spec: one float `BoundedTensorSpec` of shape (n,) with finite bounds.
          model: a Sequential or functional `tf.keras.Model` ending in [B, n], cloned here and on every
            `copy()`, or a zero-argument callable building one.
          squash: tanh the output and scale it to the bounds; False takes it as the action.
        """
        _require_keras_2(name)
        flat = tf.nest.flatten(action_spec)
        if len(flat) != 1 or not flat[0].dtype.is_floating or flat[0].shape.rank != 1:
            raise ValueError(f"{name}: expected one float action spec of shape (n,), got {action_spec}. A "
                             "deterministic actor gives continuous actions; for discrete or mixed ones use "
                             "KerasActorDistributionNetwork with PPO or SAC.")
        bounded = isinstance(flat[0], tensor_spec.BoundedTensorSpec) and all(
            np.all(np.isfinite(bound)) for bound in (flat[0].minimum, flat[0].maximum))
        if squash and not bounded:
            raise ValueError(f"{name}: squash=True scales tanh to the action's bounds, but {flat[0]} has no finite "
                             "bounds: the actions would be NaN. Fix: give the env's Box finite low/high "
                             "(gymnasium.wrappers.RescaleAction or ClipAction), or squash=False (the model's output "
                             "is the action, unbounded).")
        super().__init__(input_tensor_spec=input_tensor_spec, state_spec=(), name=name)
        self._action_spec, self._squash = flat[0], squash
        self._model = _fresh_model(model, name)
        _check_inputs(self._model, input_tensor_spec, name)
        self._input_dtypes = _declared_input_dtypes(self._model, input_tensor_spec)
        width = int(self._action_spec.shape[0])
        zeros = tensor_spec.zero_spec_nest(input_tensor_spec, outer_dims=(1,))
        try:
            outputs = self._model(_model_inputs(zeros, self._input_dtypes))
        except (ValueError, TypeError, tf.errors.InvalidArgumentError) as error:
            raise ValueError(f"{name}: the model could not be called on an observation matching {input_tensor_spec}: "
                             f"{error}. Fix: make its inputs match the spec.") from error
        several = isinstance(outputs, (list, tuple, dict))
        if several or outputs.shape.as_list() != [1, width]:
            shape = "several outputs" if several else f"shape {outputs.shape.as_list()}"
            raise ValueError(f"{name}: the model gives {shape} for a batch of 1; expected [B, {width}] for "
                             f"{self._action_spec}. Fix: end the model with tf.keras.layers.Dense({width}).")

    def call(self, observation, step_type=None, network_state=(), training=False):
        del step_type  # feed-forward
        squash = network_utils.BatchSquash(nest_utils.get_outer_rank(observation, self.input_tensor_spec))
        outputs = self._model(_model_inputs(tf.nest.map_structure(squash.flatten, observation), self._input_dtypes),
                              training=training)
        outputs = tf.cast(outputs, self._action_spec.dtype)
        if self._squash:
            outputs = common.scale_to_spec(tf.tanh(outputs), self._action_spec)
        return squash.unflatten(outputs), network_state


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
