"""KerasActorDistributionNetwork: a multi-output Keras model as the actor of PPO, REINFORCE or SAC.

    observation (array, or dict of arrays matched to model inputs by name)
        |
    your tf.keras.Model, with named outputs: one group per action component
        |   Box component c:       "c_mean" [B, n] and "c_std" [B, n]  (or a trainable log-std)
        |   Discrete component c:  "c_logits" [B, n]
        |   (a single, unnested action spec: "mean", "std", "logits")
    a nest of distributions matching the action spec:
        Box -> MultivariateNormalDiag(mean, std), tanh-squashed to the bounds with squash=True (SAC)
        Discrete -> Categorical(logits)

One distribution per component of a nested (dict or tuple) action spec, so an action of a
discrete choice and a float works: TF-Agents' agents sum the components' log-probabilities
(`tf_agents.utils.common.log_probability`), the per-head losses summed. The model is cloned with
fresh weights here and on every `copy()`, as `KerasQNetwork` does, so no two networks share a
variable. Standard deviations: `std="softplus"` (default) passes the model's std outputs through
softplus (plus `min_std`); `std="positive"` takes them as they are, and the layer that makes each
must end in softplus, exp or sigmoid; `std="state_independent"` takes no std outputs and learns one
log-std per action dimension (PPO's usual choice).

Usage (PPO on a dict action: a continuous turn and a discrete grip):

    import tensorflow as tf
    from tf_agents.agents.ppo import ppo_clip_agent
    from tf_agents.specs import tensor_spec
    from keras_actor_distribution_network import KerasActorDistributionNetwork  # or tfa_custom_nets.networks
    from keras_value_network import KerasValueNetwork

    observation_spec = tensor_spec.TensorSpec((6,), tf.float32)
    action_spec = {"turn": tensor_spec.BoundedTensorSpec((2,), tf.float32, -1.0, 1.0),
                   "grip": tensor_spec.BoundedTensorSpec((), tf.int64, 0, 1)}

    def actor():
        inputs = tf.keras.Input((6,), name="observation")
        trunk = tf.keras.layers.Dense(64, activation="tanh")(inputs)
        return tf.keras.Model(inputs, {"turn_mean": tf.keras.layers.Dense(2)(trunk),
                                       "turn_std": tf.keras.layers.Dense(2)(trunk),
                                       "grip_logits": tf.keras.layers.Dense(2)(trunk)})

    actor_net = KerasActorDistributionNetwork(observation_spec, action_spec, actor)
    value_net = KerasValueNetwork(observation_spec, value_model)
    agent = ppo_clip_agent.PPOClipAgent(time_step_spec, action_spec, tf.keras.optimizers.Adam(3e-4),
                                        actor_net=actor_net, value_net=value_net)

This file imports only tensorflow, tensorflow_probability, tf_agents and numpy: copy it into your project.
"""

from typing import Callable, Union

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from tf_agents.distributions import utils as distribution_utils
from tf_agents.networks import network
from tf_agents.networks import utils as network_utils
from tf_agents.specs import tensor_spec
from tf_agents.utils import nest_utils

ModelOrBuilder = Union[tf.keras.Model, Callable[[], tf.keras.Model]]
STD_MODES = ("softplus", "positive", "state_independent")
_POSITIVE_ACTIVATIONS = ("softplus", "exponential", "sigmoid")


def _component_names(action_spec, name: str) -> list:
    """`[(prefix, spec)]` in `tf.nest.flatten` order (dict keys sorted): "" for an unnested spec, "key_" for
    a dict entry, "i_" for a tuple entry."""
    if isinstance(action_spec, dict):
        components = [(f"{key}_", action_spec[key]) for key in sorted(action_spec)]
    elif isinstance(action_spec, (tuple, list)):
        components = [(f"{i}_", spec) for i, spec in enumerate(action_spec)]
    else:
        components = [("", action_spec)]
    for prefix, spec in components:
        if not isinstance(spec, tf.TypeSpec):
            raise ValueError(f"{name}: action component {prefix.rstrip('_')} is itself nested ({spec}); expected one "
                             "level of dict or tuple. Fix: flatten the action space to one level.")
    return components


def _width(spec, name: str, label: str) -> int:
    """Entries per head for one action component, checking what the distributions can take."""
    if spec.dtype.is_integer:
        minimum, maximum = np.asarray(spec.minimum), np.asarray(spec.maximum)
        if spec.shape.rank != 0 or np.any(minimum != 0):
            raise ValueError(
                f"{name}: action component {label or 'action'} is {spec}; expected a scalar Discrete choice with "
                "minimum 0. Fix: load the env with tfa_custom_nets.envs.load (it shifts a Discrete `start` to 0); "
                "a MultiDiscrete action becomes a dict of Discrete components.")
        return int(maximum) + 1
    if spec.shape.rank != 1:
        raise ValueError(f"{name}: action component {label or 'action'} has shape {spec.shape.as_list()}; expected a "
                         "flat Box (n,). Fix: flatten the Box with gymnasium.wrappers.FlattenObservation-style "
                         "reshaping of the action, or split it into dict components.")
    return int(spec.shape[0])


class KerasActorDistributionNetwork(network.Network):
    """Wraps a Keras model whose named outputs parameterise one distribution per action component."""

    def __init__(self, input_tensor_spec, action_spec, model: ModelOrBuilder, std: str = "softplus",
                 squash: bool = False, min_std: float = 1e-3, init_std: float = 1.0,
                 name: str = "KerasActorDistributionNetwork"):
        """Builds the network and checks the model's outputs against the action spec.

        Args:
          input_tensor_spec: observation `TensorSpec`, or a dict of them whose keys name the model's inputs.
          action_spec: a `BoundedTensorSpec` or a dict/tuple of them: float `(n,)` Box components, scalar
            int Discrete components with minimum 0.
          model: a Sequential or functional `tf.keras.Model` with named outputs (see the module docstring),
            cloned with fresh weights here and on every `copy()`, or a zero-argument callable building one.
          std: "softplus", "positive" or "state_independent" (see the module docstring).
          squash: tanh-squash each Box distribution to its bounds (SAC); otherwise the Normal is unbounded.
          min_std: added to the standard deviation from "softplus" and "state_independent".
          init_std: the starting standard deviation of "state_independent".
        """
        _require_keras_2(name)
        if isinstance(input_tensor_spec, dict) and "action_mask" in input_tensor_spec:
            raise ValueError(f"{name}: the observation spec has an 'action_mask' entry; this network takes no masks. "
                             "Fix: build it with observation_spec['observation'].")
        if std not in STD_MODES:
            raise ValueError(f"{name}: std must be one of {STD_MODES}, got {std!r}.")
        super().__init__(input_tensor_spec=input_tensor_spec, state_spec=(), name=name)
        self._action_spec, self._std, self._squash, self._min_std = action_spec, std, squash, float(min_std)
        self._components = []  # (prefix, spec, width, head names)
        for prefix, spec in _component_names(action_spec, name):
            width = _width(spec, name, prefix.rstrip("_"))
            if spec.dtype.is_integer:
                heads = [f"{prefix}logits"]
            else:
                heads = [f"{prefix}mean"] + ([] if std == "state_independent" else [f"{prefix}std"])
                low, high = getattr(spec, "minimum", -np.inf), getattr(spec, "maximum", np.inf)
                if squash and not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
                    raise ValueError(
                        f"{name}: squash=True scales tanh to the bounds of action {prefix.rstrip('_') or 'action'}, "
                        f"but they are not finite (minimum {low}, maximum {high}): the actions "
                        "would be NaN. Fix: give the env's Box finite low/high (gymnasium.wrappers.RescaleAction or "
                        "ClipAction), or squash=False (an unbounded Normal).")
            self._components.append((prefix, spec, width, heads))
        self._model = _fresh_model(model, name)
        _check_inputs(self._model, input_tensor_spec, name)
        self._input_dtypes = _declared_input_dtypes(self._model, input_tensor_spec)
        self._log_std = {}
        if std == "state_independent":
            for prefix, spec, width, _ in self._components:
                if not spec.dtype.is_integer:
                    self._log_std[prefix] = tf.Variable(np.full(width, np.log(init_std), np.float32),
                                                        name=f"{prefix}log_std")
        self._check_outputs(name)

    def _outputs(self, observation, training=False) -> dict:
        outputs = self._model(_model_inputs(observation, self._input_dtypes), training=training)
        if isinstance(outputs, dict):
            return outputs
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return dict(zip(self._model.output_names, outputs))

    def _check_outputs(self, name: str) -> None:
        zeros = tensor_spec.zero_spec_nest(self.input_tensor_spec, outer_dims=(1,))
        try:
            outputs = self._outputs(zeros)
        except (ValueError, TypeError, tf.errors.InvalidArgumentError) as error:
            raise ValueError(f"{name}: the model could not be called on an observation matching "
                             f"{self.input_tensor_spec}: {error}. Fix: make its inputs match the spec.") from error
        expected = [head for *_, heads in self._components for head in heads]
        for prefix, spec, _, _ in self._components:
            if spec.dtype.is_integer and (f"{prefix}mean" in outputs or f"{prefix}std" in outputs):
                raise ValueError(f"{name}: action component {prefix.rstrip('_') or 'action'} is Discrete "
                                 f"({spec.maximum + 1} choices) but the model gives it a mean/std pair; expected one "
                                 f"output named {prefix}logits of width {spec.maximum + 1}.")
        missing, extra = sorted(set(expected) - set(outputs)), sorted(set(outputs) - set(expected))
        if missing or extra:
            raise ValueError(
                f"{name}: the model's outputs are named {sorted(outputs)}; the action spec needs exactly {expected}"
                + (f" (missing {missing})" if missing else "") + (f" (unused {extra})" if extra else "")
                + ". Fix: return a dict of outputs with these keys, or name the output layers so.")
        for _, spec, width, heads in self._components:
            for head in heads:
                shape = outputs[head].shape.as_list()
                if shape != [1, width]:
                    raise ValueError(f"{name}: output {head} has shape [B, {', '.join(map(str, shape[1:]))}]; "
                                     f"expected [B, {width}] for {spec}. Fix: end that head with "
                                     f"tf.keras.layers.Dense({width}).")
        if self._std == "positive":
            self._check_positive_std(name)

    def _check_positive_std(self, name: str) -> None:
        """std="positive": the layer making each std output must end in an activation that is > 0."""
        symbolic = getattr(self._model, "output", None) if self._model._is_graph_network else None  # pylint: disable=protected-access
        if symbolic is None:
            raise ValueError(f"{name}: std='positive' needs a functional or Sequential model, whose layers can be "
                             "checked; got a subclassed one. Fix: std='softplus'.")
        if not isinstance(symbolic, dict):
            symbolic = dict(zip(self._model.output_names,
                                symbolic if isinstance(symbolic, (list, tuple)) else [symbolic]))
        for prefix, spec, _, _ in self._components:
            if spec.dtype.is_integer:
                continue
            layer = symbolic[f"{prefix}std"]._keras_history.layer  # pylint: disable=protected-access
            activation = getattr(getattr(layer, "activation", None), "__name__", None)
            if activation not in _POSITIVE_ACTIVATIONS:
                raise ValueError(
                    f"{name}: std='positive' takes output {prefix}std as it is, but the layer that makes it "
                    f"({layer.name}) has activation {activation!r}, which can give values <= 0. Fix: end it with "
                    f"activation='softplus' (or one of {_POSITIVE_ACTIVATIONS}), or std='softplus'.")

    def _distribution(self, prefix, spec, outputs):
        if spec.dtype.is_integer:
            return tfp.distributions.Categorical(logits=outputs[f"{prefix}logits"], dtype=spec.dtype)
        mean = tf.cast(outputs[f"{prefix}mean"], tf.float32)
        if self._std == "state_independent":
            std = tf.broadcast_to(tf.exp(self._log_std[prefix]), tf.shape(mean)) + self._min_std
        elif self._std == "softplus":
            std = tf.nn.softplus(tf.cast(outputs[f"{prefix}std"], tf.float32)) + self._min_std
        else:
            std = tf.cast(outputs[f"{prefix}std"], tf.float32)
        normal = tfp.distributions.MultivariateNormalDiag(loc=mean, scale_diag=std)
        if self._squash:
            return distribution_utils.SquashToSpecNormal(normal, spec)
        return normal

    def call(self, observation, step_type=None, network_state=(), training=False):
        del step_type  # feed-forward
        squash = network_utils.BatchSquash(nest_utils.get_outer_rank(observation, self.input_tensor_spec))
        outputs = self._outputs(tf.nest.map_structure(squash.flatten, observation), training=training)
        outputs = {key: squash.unflatten(value) for key, value in outputs.items()}  # PPO calls it on [B, T]
        distributions = [self._distribution(prefix, spec, outputs) for prefix, spec, _, _ in self._components]
        return tf.nest.pack_sequence_as(self._action_spec, distributions), network_state


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
