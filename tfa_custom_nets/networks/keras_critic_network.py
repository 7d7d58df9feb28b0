"""KerasCriticNetwork: a two-input Keras model Q(s, a) as the critic of SAC, TD3 or DDPG.

    (observation, action)
        |
    your tf.keras.Model with two inputs: the observation and one named "action", routed by name
    (in either order; unnamed inputs: the observation first), or, for a dict observation, inputs
    named by its keys and "action"
        |
    q_values [B]   (the model may end in [B, 1] or [B])

The agents build their target critics with `copy()`; the model is cloned with fresh weights here
and on every copy, so no two critics share a variable (TD3 and SAC keep two critics and two
targets: four independent models). Float observations and actions are cast to the dtypes the
model's inputs declare; a non-float observation must match its input's dtype.

Usage:

    import tensorflow as tf
    from tf_agents.agents.sac import sac_agent
    from keras_critic_network import KerasCriticNetwork   # or tfa_custom_nets.networks

    def critic():
        observation = tf.keras.Input((3,), name="observation")
        action = tf.keras.Input((1,), name="action")
        x = tf.keras.layers.Concatenate()([observation, action])
        x = tf.keras.layers.Dense(256, activation="relu")(x)
        return tf.keras.Model([observation, action], tf.keras.layers.Dense(1)(x))

    critic_net = KerasCriticNetwork((observation_spec, action_spec), critic)
    agent = sac_agent.SacAgent(time_step_spec, action_spec, critic_network=critic_net, actor_network=actor_net,
                               actor_optimizer=..., critic_optimizer=..., alpha_optimizer=...)

This file imports only tensorflow, tf_agents and numpy: copy it into your project.
"""

from typing import Callable, Union

import tensorflow as tf
from tf_agents.networks import network
from tf_agents.networks import utils as network_utils
from tf_agents.specs import tensor_spec
from tf_agents.utils import nest_utils

ModelOrBuilder = Union[tf.keras.Model, Callable[[], tf.keras.Model]]


class KerasCriticNetwork(network.Network):
    """Wraps a Keras model mapping `(observation, action)` to one Q-value each."""

    def __init__(self, input_tensor_spec, model: ModelOrBuilder, name: str = "KerasCriticNetwork"):
        """Args:
          input_tensor_spec: `(observation_spec, action_spec)`; the observation a `TensorSpec` or a dict of
            them, the action a float `BoundedTensorSpec`.
          model: a functional `tf.keras.Model` taking the observation and the action (see the module
            docstring), cloned here and on every `copy()`, or a zero-argument callable building one.
        """
        _require_keras_2(name)
        if not (isinstance(input_tensor_spec, (tuple, list)) and len(input_tensor_spec) == 2):
            raise ValueError(f"{name}: input_tensor_spec must be (observation_spec, action_spec), got "
                             f"{input_tensor_spec}.")
        super().__init__(input_tensor_spec=tuple(input_tensor_spec), state_spec=(), name=name)
        observation_spec, action_spec = input_tensor_spec
        self._dict_observation = isinstance(observation_spec, dict)
        if self._dict_observation and "action" in observation_spec:
            raise ValueError(f"{name}: the observation has a key 'action', the name this critic gives the action "
                             "input, so the two cannot be told apart. Fix: rename that observation key (e.g. "
                             "'last_action') in the env or with a gymnasium observation wrapper.")
        self._model = _fresh_model(model, name)
        # A two-input model whose first input is named "action" gets [action, observation]: inputs go by name.
        self._action_first = (not self._dict_observation
                              and list(getattr(self._model, "input_names", None) or [])[:1] == ["action"])
        self._check_model(observation_spec, action_spec, name)

    def _critic_inputs(self, observation, action):
        """The model's inputs, cast to the float dtypes it declares (observations of other dtypes as they are)."""
        if self._dict_observation:
            inputs = dict(observation, action=action)
        else:
            inputs = [action, observation] if self._action_first else [observation, action]
        declared = getattr(self._model, "inputs", None)
        if not declared:
            return inputs
        if isinstance(inputs, dict):
            dtypes = {key: declared[self._model.input_names.index(key)].dtype for key in inputs}
            return {k: tf.cast(v, dtypes[k]) if v.dtype.is_floating else v for k, v in inputs.items()}
        return [tf.cast(v, d.dtype) if v.dtype.is_floating else v for v, d in zip(inputs, declared)]

    def _check_model(self, observation_spec, action_spec, name: str) -> None:
        names = sorted(getattr(self._model, "input_names", None) or [])
        wanted = sorted([*observation_spec, "action"]) if self._dict_observation else None
        if wanted and names and names != wanted:
            raise ValueError(f"{name}: the model's inputs are named {names}; expected {wanted} (the observation's "
                             "keys and 'action'). Fix: name each tf.keras.Input so.")
        if not self._dict_observation and getattr(self._model, "inputs", None) and len(self._model.inputs) != 2:
            raise ValueError(f"{name}: the model takes {len(self._model.inputs)} input(s); a critic takes two, the "
                             "observation and the action. Fix: tf.keras.Model([observation, action], q_value).")
        zeros = tensor_spec.zero_spec_nest((observation_spec, action_spec), outer_dims=(1,))
        try:
            values = self._model(self._critic_inputs(*zeros), training=False)
        except (ValueError, TypeError, tf.errors.InvalidArgumentError) as error:
            raise ValueError(f"{name}: the model could not be called on (observation, action) matching "
                             f"{observation_spec} and {action_spec}: {error}. Fix: make its two inputs match "
                             "those shapes, the one for the action named 'action'.") from error
        if isinstance(values, (list, tuple, dict)) or values.shape.as_list() not in ([1], [1, 1]):
            shape = "several outputs" if isinstance(values, (list, tuple, dict)) else f"shape {values.shape.as_list()}"
            raise ValueError(f"{name}: the model gives {shape} for a batch of 1; expected one Q-value per "
                             "(observation, action), [B, 1] or [B]. Fix: end the model with tf.keras.layers.Dense(1).")

    def call(self, inputs, step_type=None, network_state=(), training=False):
        del step_type  # feed-forward
        observation, action = inputs
        squash = network_utils.BatchSquash(nest_utils.get_outer_rank(observation, self.input_tensor_spec[0]))
        observation, action = tf.nest.map_structure(squash.flatten, (observation, action))
        values = self._model(self._critic_inputs(observation, action), training=training)
        return squash.unflatten(tf.reshape(values, tf.shape(values)[:1])), network_state


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
