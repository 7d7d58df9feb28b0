"""Builders: the pieces every training role makes from a config (Acme's `make_*` functions).

    env = make_env(config.env, seed=config.train_env_seed(0))
    agent, epsilon = make_agent_for_env(config, env, env_steps)
    collect_policy = make_collect_policy(config, agent, num_envs=16, seed=config.seed, epsilon=...)

Each is a plain function of the config; `train_eval`, the distributed roles, tests and benchmarks
build from the same functions.
"""

from __future__ import annotations

import random
import warnings

import gymnasium as gym
import numpy as np
import tensorflow as tf
from tf_agents.agents.dqn import dqn_agent
from tf_agents.agents.ppo import ppo_clip_agent
from tf_agents.agents.sac import sac_agent
from tf_agents.environments import batched_py_environment
from tf_agents.specs import tensor_spec
from tf_agents.utils import common

from tfa_custom_nets import envs
from tfa_custom_nets.agents import BranchingDqnAgent, EzGreedyPyPolicy
from tfa_custom_nets.agents.branching_policies import branch_sizes_of
from tfa_custom_nets.networks import (
    BranchingQNetwork,
    JointQNetwork,
    KerasActorDistributionNetwork,
    KerasCriticNetwork,
    KerasQNetwork,
    KerasValueNetwork,
)
from tfa_custom_nets.training.compiled_policy import CompiledPyPolicy
from tfa_custom_nets.training.config import ACTOR_CRITIC_KINDS, EnvConfig, TrainConfig
from tfa_custom_nets.training.presets import resolve_ref


def make_env(env_config: EnvConfig, seed: int | None = None) -> envs.GymnasiumEnvironment:
    """The config's env: `gymnasium.make(id, **make_kwargs)` or its `make` factory's, joint-wrapped if asked."""
    try:
        if env_config.make is None:
            gym_env = gym.make(env_config.id, **env_config.make_kwargs)
        else:
            gym_env = resolve_ref(env_config.make, "env.make")(env_config.id, **env_config.make_kwargs)
    except gym.error.Error as error:  # unknown id or version, missing dependency: one message, not a traceback
        raise ValueError(f"env.id {env_config.id!r}: {error} Fix: a registered gymnasium id (`gymnasium."
                         "pprint_registry()` lists them), or an env.make factory that registers it.") from error
    if env_config.joint_actions:
        gym_env = envs.JointActionWrapper(gym_env)
    return envs.load(gym_env, seed=seed, action_mask=env_config.action_mask)


def mask_splitter(config: TrainConfig):
    """The agent's `observation_and_action_constraint_splitter`: `envs.action_mask_splitter` when the
    env's observations carry a mask (`env.action_mask`), else None."""
    return envs.action_mask_splitter if config.env.action_mask else None


def branch_spec(env: envs.GymnasiumEnvironment, action_spec):
    """The `(D,)` action spec behind a joint-wrapped env (what the branch model is built for), else `action_spec`."""
    wrapper = env.gym_env
    if not isinstance(wrapper, envs.JointActionWrapper):
        return action_spec
    return tensor_spec.BoundedTensorSpec((len(wrapper.nvec),), tf.int64, 0, wrapper.nvec - 1, name="action")


def set_tf_threads(threads: int | None, inter_op: bool = False) -> int:
    """Sets the threads one TensorFlow op may use (and, with `inter_op`, the ops run at once), if
    TensorFlow has not run an op yet in this process; returns the intra-op setting in force (0:
    TensorFlow's default). After the first op it is fixed: a different request then warns and
    changes nothing.
    """
    if threads is not None:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            if inter_op:
                tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            warnings.warn(f"tf_threads={threads} not applied: TensorFlow already started in this process with "
                          f"{tf.config.threading.get_intra_op_parallelism_threads() or 'its default'} intra-op "
                          "threads. Set it before any TensorFlow op runs (a fresh process: `tfa-nets train` "
                          "or the experiment's script).", RuntimeWarning, stacklevel=2)
    return tf.config.threading.get_intra_op_parallelism_threads()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)


def make_q_network(config: TrainConfig, observation_spec, action_spec, model_action_spec):
    """The network that fits the agent kind and the action spec, around the config's Keras model (which
    sees the observation without its action mask)."""
    model_fn = resolve_ref(config.network.model, "network.model")
    splitter = mask_splitter(config)
    if splitter is not None:
        observation_spec, _ = splitter(observation_spec)

    def build():
        return model_fn(observation_spec, model_action_spec, **config.network.kwargs)

    if action_spec.dtype.is_floating:
        raise ValueError(
            f"env {config.env.id!r} has a continuous (Box) action {action_spec}; DQN needs discrete actions. Fix: "
            "wrap it in tfa_custom_nets.envs.DiscretizeActions(env, bins) in an env.make factory and use "
            "agent.kind='bdq'.")
    if config.agent.kind == "bdq":
        if action_spec.shape.rank != 1:
            raise ValueError(
                f"agent.kind='bdq' needs a MultiDiscrete (D,) action, but {config.env.id!r} has shape "
                f"{action_spec.shape.as_list()}" + (" (env.joint_actions=True made it one index: turn that off)."
                                                    if config.env.joint_actions else ". Fix: use 'dqn' or 'ddqn'."))
        return BranchingQNetwork(observation_spec, action_spec, build)
    if model_action_spec is not action_spec:
        return JointQNetwork(observation_spec, action_spec, build, branch_sizes=branch_sizes_of(model_action_spec))
    if action_spec.shape.rank != 0:
        raise ValueError(
            f"agent.kind={config.agent.kind!r} (TF-Agents' DqnAgent) takes one discrete action, but "
            f"{config.env.id!r} has a MultiDiscrete action of shape {action_spec.shape.as_list()}. Fix: "
            "agent.kind='bdq' (one Q-head per dimension), or env.joint_actions=True (one index per combination).")
    return KerasQNetwork(observation_spec, action_spec, build)


def check_single_action(config: TrainConfig, action_spec) -> None:
    """A nested (Dict or Tuple) action fits only PPO's actor (one distribution per component): the other kinds
    are refused here with what the env has, instead of failing inside TF-Agents."""
    if not tf.nest.is_nested(action_spec) or config.on_policy:
        return
    space = "Dict" if isinstance(action_spec, dict) else "Tuple"
    components = ", ".join(f"{path}: {'Box' if spec.dtype.is_floating else 'Discrete'} {spec.shape.as_list()}"
                           for path, spec in _paths(action_spec))
    raise ValueError(
        f"agent.kind={config.agent.kind!r} takes one action (Discrete, MultiDiscrete or a flat Box), but env "
        f"{config.env.id!r} has a {space} action space ({components}). Fix: agent.kind='ppo' (one distribution per "
        "component), or a gymnasium ActionWrapper that turns it into one Discrete, MultiDiscrete or Box action.")


def _paths(nest, prefix: str = ""):
    items = nest.items() if isinstance(nest, dict) else enumerate(nest) if isinstance(nest, (tuple, list)) else None
    if items is None:
        yield prefix or "action", nest
        return
    for key, value in items:
        yield from _paths(value, f"{prefix}[{key!r}]")


def make_agent(config: TrainConfig, time_step_spec, action_spec, env_steps: tf.Variable, model_action_spec=None):
    """The DqnAgent/DdqnAgent/BranchingDqnAgent with its network and its epsilon schedule (a function of
    `env_steps`, returned too), or the SacAgent or PPOClipAgent (`make_sac_agent`, `make_ppo_agent`; epsilon 0:
    they sample their own policies).

    `model_action_spec` is the `(D,)` spec the Keras model is built for when the agent sees
    joint actions (`branch_spec`); by default the agent's own action spec.
    """
    check_single_action(config, action_spec)
    precision = tf.keras.mixed_precision.global_policy().name
    if precision != "float32":
        raise ValueError(
            f"tf.keras' global dtype policy is {precision!r}; the agents here (TF-Agents' losses, targets and "
            "policies) compute in float32, and a model built under it would not fit them. Fix: "
            "tf.keras.mixed_precision.set_global_policy('float32') before building the agent.")
    if config.agent.kind == "sac":
        return make_sac_agent(config, time_step_spec, action_spec), lambda: tf.constant(0.0)
    if config.agent.kind == "ppo":
        return make_ppo_agent(config, time_step_spec, action_spec), lambda: tf.constant(0.0)
    q_network = make_q_network(config, time_step_spec.observation, action_spec,
                               action_spec if model_action_spec is None else model_action_spec)
    agent_config = config.agent
    warmup, decay = config.replay.learning_starts, agent_config.epsilon_decay_steps

    start, end = agent_config.epsilon_start, agent_config.epsilon_end

    def epsilon():
        progress = tf.clip_by_value(tf.cast(env_steps - warmup, tf.float32) / decay, 0.0, 1.0)
        if agent_config.epsilon_schedule == "exponential":
            return start * (end / start) ** progress
        return start + (end - start) * progress

    learning_rate = agent_config.learning_rate
    if agent_config.learning_rate_end is not None:  # linear decay over the run's updates (the optimizer's steps)
        updates = max(1, config.total_updates)
        learning_rate = tf.keras.optimizers.schedules.PolynomialDecay(
            agent_config.learning_rate, updates, end_learning_rate=agent_config.learning_rate_end)

    kind_kwargs = {}
    if agent_config.kind == "bdq":
        agent_cls, kind_kwargs = BranchingDqnAgent, {"target_aggregation": agent_config.target_aggregation}
    else:
        agent_cls = {"dqn": dqn_agent.DqnAgent, "ddqn": dqn_agent.DdqnAgent}[agent_config.kind]
    agent = agent_cls(
        time_step_spec, action_spec, q_network=q_network,
        optimizer=tf.keras.optimizers.Adam(learning_rate),
        epsilon_greedy=epsilon,
        gamma=agent_config.gamma,
        n_step_update=agent_config.n_step_update,
        td_errors_loss_fn={"huber": common.element_wise_huber_loss,
                           "mse": common.element_wise_squared_loss}[agent_config.loss],
        gradient_clipping=agent_config.gradient_clipping,
        target_update_period=agent_config.target_update_period,
        target_update_tau=agent_config.target_update_tau,
        train_step_counter=tf.Variable(0, dtype=tf.int64, name="train_step"),
        observation_and_action_constraint_splitter=mask_splitter(config),
        **kind_kwargs,
    )
    agent.initialize()
    return agent, epsilon


def keras_actor(config: TrainConfig, observation_spec, action_spec, squash: bool) -> KerasActorDistributionNetwork:
    """The actor of an actor-critic kind: `network.model` (with `network.kwargs`) as one distribution per action
    component, its stds made as `network.actor_std` says, tanh-squashed to the bounds with `squash` (SAC)."""
    model_fn = resolve_ref(config.network.model, "network.model")
    return KerasActorDistributionNetwork(
        observation_spec, action_spec, lambda: model_fn(observation_spec, action_spec, **config.network.kwargs),
        std=config.network.actor_std, squash=squash)


def critic_builder(config: TrainConfig, observation_spec, action_spec):
    """A zero-argument builder of `network.critic_model` (with `network.critic_kwargs`): SAC's Q(s, a), PPO's V(s)."""
    critic_fn = resolve_ref(config.network.critic_model, "network.critic_model")
    return lambda: critic_fn(observation_spec, action_spec, **config.network.critic_kwargs)


def make_sac_agent(config: TrainConfig, time_step_spec, action_spec):
    """TF-Agents' SacAgent with the config's Keras actor (`network.model`, tanh-squashed to the action bounds)
    and two Keras critics (`network.critic_model`); one Adam learning rate for actor, critics and temperature."""
    if not action_spec.dtype.is_floating or action_spec.shape.rank != 1:
        raise ValueError(f"agent.kind='sac' needs a flat Box action (n,); env {config.env.id!r} has {action_spec}. "
                         "Fix: agent.kind='dqn' or 'ddqn' for a Discrete action, 'bdq' for a MultiDiscrete one.")
    observation_spec = time_step_spec.observation
    actor = keras_actor(config, observation_spec, action_spec, squash=True)
    critic = KerasCriticNetwork((observation_spec, action_spec), critic_builder(config, observation_spec, action_spec))
    agent_config = config.agent
    target_entropy = agent_config.target_entropy
    agent = sac_agent.SacAgent(
        time_step_spec, action_spec, critic_network=critic, actor_network=actor,
        actor_optimizer=tf.keras.optimizers.Adam(agent_config.learning_rate),
        critic_optimizer=tf.keras.optimizers.Adam(agent_config.learning_rate),
        alpha_optimizer=tf.keras.optimizers.Adam(agent_config.learning_rate),
        target_update_tau=agent_config.target_update_tau, target_update_period=agent_config.target_update_period,
        td_errors_loss_fn={"huber": common.element_wise_huber_loss, "mse": tf.math.squared_difference}[
            agent_config.loss],
        gamma=agent_config.gamma, gradient_clipping=agent_config.gradient_clipping,
        target_entropy=-float(action_spec.shape[0]) if target_entropy is None else target_entropy,
        train_step_counter=tf.Variable(0, dtype=tf.int64, name="train_step"))
    agent.initialize()
    return agent


def make_ppo_agent(config: TrainConfig, time_step_spec, action_spec):
    """TF-Agents' PPOClipAgent with the config's Keras actor (`network.model`: one distribution per action
    component, so Box, Discrete and dict actions of both) and value model (`network.critic_model`); GAE advantages
    and TD(lambda) value targets, observations and rewards normalised as TF-Agents does by default."""
    observation_spec, agent_config = time_step_spec.observation, config.agent
    actor = keras_actor(config, observation_spec, action_spec, squash=False)
    value = KerasValueNetwork(observation_spec, critic_builder(config, observation_spec, action_spec))
    agent = ppo_clip_agent.PPOClipAgent(
        time_step_spec, action_spec, optimizer=tf.keras.optimizers.Adam(agent_config.learning_rate),
        actor_net=actor, value_net=value, importance_ratio_clipping=agent_config.clip_ratio,
        lambda_value=agent_config.gae_lambda, discount_factor=agent_config.gamma,
        entropy_regularization=agent_config.entropy_coef, num_epochs=agent_config.ppo_epochs, use_gae=True,
        use_td_lambda_return=True, gradient_clipping=agent_config.gradient_clipping,
        train_step_counter=tf.Variable(0, dtype=tf.int64, name="train_step"))
    agent.initialize()
    return agent


def make_agent_for_env(config: TrainConfig, env: envs.GymnasiumEnvironment, env_steps: tf.Variable):
    """`make_agent` for the specs of `env` (one of the config's envs): `(agent, epsilon)`."""
    time_step_spec = tensor_spec.from_spec(env.time_step_spec())
    action_spec = tensor_spec.from_spec(env.action_spec())
    return make_agent(config, time_step_spec, action_spec, env_steps, branch_spec(env, action_spec))


def make_train_envs(config: TrainConfig, seed: int | None = None):
    """The role's training envs, seeded, and what the driver steps: `(train_envs, env, num_envs)`.

    Several envs step as one batch (`BatchedPyEnvironment`, one policy call per batch, `num_envs`
    their count); a single env is stepped unbatched (`num_envs` None).
    """
    train_envs = [make_env(config.env, seed=config.train_env_seed(i, seed)) for i in range(config.num_envs)]
    if config.num_envs == 1:
        return train_envs, train_envs[0], None
    return train_envs, batched_py_environment.BatchedPyEnvironment(train_envs, multithreading=False), config.num_envs


def make_collect_policy(config: TrainConfig, agent, num_envs: int | None, seed: int, epsilon):
    """The compiled collect policy: the agent's epsilon-greedy one, or ez-greedy around its greedy
    policy (`epsilon` a zero-argument function giving the current rate).

    A `deterministic` DQN-family run explores with ez-greedy held for one step, which is epsilon-greedy drawn
    from a NumPy generator: a checkpoint saves that generator, where the agent's own policy draws from
    TensorFlow ops whose state cannot be saved, so a resumed run takes the uninterrupted run's actions."""
    agent_config = config.agent
    numpy_epsilon_greedy = config.deterministic and agent_config.kind not in ACTOR_CRITIC_KINDS
    if agent_config.exploration == "ez_greedy" or numpy_epsilon_greedy:
        held = agent_config.exploration == "ez_greedy"
        return EzGreedyPyPolicy(CompiledPyPolicy(agent.policy, batched=num_envs is not None), epsilon=epsilon,
                                mu=agent_config.ez_mu, max_repeat=agent_config.ez_max_repeat if held else 1,
                                seed=seed, num_envs=num_envs,
                                observation_and_action_constraint_splitter=mask_splitter(config))
    return CompiledPyPolicy(agent.collect_policy, batched=num_envs is not None,
                            with_info=bool(tf.nest.flatten(agent.collect_policy.info_spec)))
