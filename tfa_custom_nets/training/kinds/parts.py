"""What several agent kinds build alike from a config: the mask splitter, the Keras model, Adam with its
schedule, the TD loss, the epsilon schedule, an actor and a critic."""

from __future__ import annotations

from typing import TYPE_CHECKING

import tensorflow as tf
from tf_agents.utils import common

from tfa_custom_nets import envs
from tfa_custom_nets.networks import KerasActorDistributionNetwork
from tfa_custom_nets.training.refs import resolve_ref

if TYPE_CHECKING:
    from tfa_custom_nets.training.config import TrainConfig

TD_LOSSES = {"huber": common.element_wise_huber_loss, "mse": common.element_wise_squared_loss}


def critic_td_loss(config: TrainConfig):
    """The element-wise TD loss the actor-critic agents (SAC, TD3, DDPG) take for `agent.loss`."""
    return {"huber": TD_LOSSES["huber"], "mse": tf.math.squared_difference}[config.agent.loss]


def mask_splitter(config: TrainConfig):
    """The agent's `observation_and_action_constraint_splitter`: `envs.action_mask_splitter` when the
    env's observations carry a mask (`env.action_mask`), else None."""
    return envs.action_mask_splitter if config.env.action_mask else None


def model_observation_spec(config: TrainConfig, observation_spec):
    """What the Keras model sees of the observation: without its action mask, where it carries one."""
    splitter = mask_splitter(config)
    return observation_spec if splitter is None else splitter(observation_spec)[0]


def model_builder(config: TrainConfig, observation_spec, action_spec, **extra):
    """A zero-argument builder of `network.model` (with `network.kwargs` and `extra`)."""
    model_fn = resolve_ref(config.network.model, "network.model")
    return lambda: model_fn(observation_spec, action_spec, **config.network.kwargs, **extra)


def critic_builder(config: TrainConfig, observation_spec, action_spec):
    """A zero-argument builder of `network.critic_model` (with `network.critic_kwargs`): Q(s, a) or V(s)."""
    critic_fn = resolve_ref(config.network.critic_model, "network.critic_model")
    return lambda: critic_fn(observation_spec, action_spec, **config.network.critic_kwargs)


def keras_actor(config: TrainConfig, observation_spec, action_spec, squash: bool) -> KerasActorDistributionNetwork:
    """The stochastic actor of SAC or PPO: `network.model` as one distribution per action component, its stds made
    as `network.actor_std` says, tanh-squashed to the bounds with `squash` (SAC)."""
    return KerasActorDistributionNetwork(observation_spec, action_spec,
                                         model_builder(config, observation_spec, action_spec),
                                         std=config.network.actor_std, squash=squash)


def adam(config: TrainConfig) -> tf.keras.optimizers.Optimizer:
    """Adam at `agent.learning_rate`, falling linearly to `agent.learning_rate_end` over the run's updates if set."""
    agent_config = config.agent
    learning_rate = agent_config.learning_rate
    if agent_config.learning_rate_end is not None:  # the optimizer's steps are the updates
        learning_rate = tf.keras.optimizers.schedules.PolynomialDecay(
            agent_config.learning_rate, max(1, config.total_updates), end_learning_rate=agent_config.learning_rate_end)
    return tf.keras.optimizers.Adam(learning_rate)


def epsilon_schedule(config: TrainConfig, env_steps: tf.Variable):
    """The exploration rate as a function of `env_steps`: from `epsilon_start` after the warm-up to `epsilon_end`
    over `epsilon_decay_steps`, linearly or by a constant factor (`epsilon_schedule`)."""
    agent_config = config.agent
    warmup, decay = config.replay.learning_starts, agent_config.epsilon_decay_steps
    start, end = agent_config.epsilon_start, agent_config.epsilon_end

    def epsilon():
        progress = tf.clip_by_value(tf.cast(env_steps - warmup, tf.float32) / decay, 0.0, 1.0)
        if agent_config.epsilon_schedule == "exponential":
            return start * (end / start) ** progress
        return start + (end - start) * progress

    return epsilon


def no_epsilon():
    """The exploration rate of a kind that explores by its own policy: 0 (the metrics' epsilon column)."""
    return tf.constant(0.0)


def train_step_counter() -> tf.Variable:
    return tf.Variable(0, dtype=tf.int64, name="train_step")


def require_discrete(config: TrainConfig, action_spec) -> None:
    """A ValueError with the fix for a Box action given to a kind that takes discrete ones."""
    if tf.nest.flatten(action_spec)[0].dtype.is_floating:
        raise ValueError(
            f"env {config.env.id!r} has a continuous (Box) action {action_spec}; agent.kind={config.agent.kind!r} "
            "needs discrete actions. Fix: wrap it in tfa_custom_nets.envs.DiscretizeActions(env, bins) in an env.make "
            "factory and use agent.kind='bdq', or a kind for Box actions ('sac', 'td3', 'ddpg', 'ppo').")


def require_box(config: TrainConfig, action_spec) -> None:
    """A ValueError with the fix for anything but a flat Box action given to a kind that takes one."""
    if not action_spec.dtype.is_floating or action_spec.shape.rank != 1:
        raise ValueError(f"agent.kind={config.agent.kind!r} needs a flat Box action (n,); env {config.env.id!r} has "
                         f"{action_spec}. Fix: agent.kind='dqn' or 'ddqn' for a Discrete action, 'bdq' for a "
                         "MultiDiscrete one.")


def optimizer_slots(pairs) -> None:
    """Creates each optimizer's slots for its variables: variables cannot be created inside the update's loop."""
    for optimizer, variables in pairs:
        if hasattr(optimizer, "_create_all_weights"):  # a legacy Keras optimizer (SacAgent converts to one)
            optimizer._create_all_weights(variables)
        else:
            optimizer.build(variables)
