"""Builders: the pieces every training role makes from a config (Acme's `make_*` functions).

    env = make_env(config.env, seed=config.train_env_seed(0))
    agent, epsilon = make_agent_for_env(config, env, env_steps)
    collect_policy = make_collect_policy(config, agent, num_envs=16, seed=config.seed, epsilon=...)

Each is a plain function of the config; `train_eval`, the distributed roles, tests and benchmarks
build from the same functions.
"""

from __future__ import annotations

import gymnasium as gym
import tensorflow as tf
from tf_agents.environments import batched_py_environment
from tf_agents.specs import tensor_spec

from tfa_custom_nets import envs
from tfa_custom_nets.agents import EzGreedyPyPolicy
from tfa_custom_nets.training.compiled_policy import CompiledPyPolicy
from tfa_custom_nets.training.config import EnvConfig, TrainConfig
from tfa_custom_nets.training.kinds.parts import mask_splitter
from tfa_custom_nets.training.refs import resolve_ref


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


def branch_spec(env: envs.GymnasiumEnvironment, action_spec):
    """The `(D,)` action spec behind a joint-wrapped env (what the branch model is built for), else `action_spec`."""
    wrapper = env.gym_env
    if not isinstance(wrapper, envs.JointActionWrapper):
        return action_spec
    return tensor_spec.BoundedTensorSpec((len(wrapper.nvec),), tf.int64, 0, wrapper.nvec - 1, name="action")


def check_single_action(config: TrainConfig, action_spec) -> None:
    """A nested (Dict or Tuple) action fits only PPO's actor (one distribution per component): the other kinds
    are refused here with what the env has, instead of failing inside TF-Agents."""
    if not tf.nest.is_nested(action_spec) or config.kind.nested_actions:
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
    """The config's agent, initialised, and its exploration rate (a function of `env_steps`; 0 for a kind that
    explores by its own policy): `(agent, epsilon)`, built by the kind's module (`training.kinds`).

    `model_action_spec` is the action spec the Keras model is built for: the `(D,)` spec behind
    joint actions (`branch_spec`); by default the agent's own action spec.
    """
    check_single_action(config, action_spec)
    precision = tf.keras.mixed_precision.global_policy().name
    if precision != "float32":
        raise ValueError(
            f"tf.keras' global dtype policy is {precision!r}; the agents here (TF-Agents' losses, targets and "
            "policies) compute in float32, and a model built under it would not fit them. Fix: "
            "tf.keras.mixed_precision.set_global_policy('float32') before building the agent.")
    return config.kind.make_agent(config, time_step_spec, action_spec,
                                  action_spec if model_action_spec is None else model_action_spec, env_steps)


def make_q_network(config: TrainConfig, observation_spec, action_spec, model_action_spec):
    """The Q-network of a DQN-family kind (`dqn`, `ddqn`, `bdq`, `c51`) around the config's Keras model (which sees
    the observation without its action mask), built for `model_action_spec`."""
    return config.kind.q_network(config, observation_spec, action_spec, model_action_spec)


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
    numpy_epsilon_greedy = config.deterministic and config.kind.epsilon_greedy
    if agent_config.exploration == "ez_greedy" or numpy_epsilon_greedy:
        held = agent_config.exploration == "ez_greedy"
        return EzGreedyPyPolicy(CompiledPyPolicy(agent.policy, batched=num_envs is not None), epsilon=epsilon,
                                mu=agent_config.ez_mu, max_repeat=agent_config.ez_max_repeat if held else 1,
                                seed=seed, num_envs=num_envs,
                                observation_and_action_constraint_splitter=mask_splitter(config))
    return CompiledPyPolicy(agent.collect_policy, batched=num_envs is not None,
                            with_info=bool(tf.nest.flatten(agent.collect_policy.info_spec)))
