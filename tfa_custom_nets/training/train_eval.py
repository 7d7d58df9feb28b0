"""`train_eval(config)`: a Keras Q-model trained by TF-Agents' DQN on a Reverb pipeline.

    gymnasium env --PyDriver(compiled epsilon-greedy policy)--> Reverb table
         ^                                                        |
         |                        prefetched TrajectoryDataset <--+
         +---- greedy evaluation <--- DqnAgent.train (compiled, one update per
                                      `update_every` env steps)

The loop collects `update_every` env steps, then runs one update, until
`total_env_steps`; it evaluates the greedy policy every `eval_interval` steps and
writes the run directory the README describes (config, metrics, summary, plot,
TensorBoard events, checkpoints, SavedModel policy).
"""

from __future__ import annotations

import json
import random
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gymnasium as gym
import numpy as np
import reverb
import tensorflow as tf
from tf_agents.agents.dqn import dqn_agent
from tf_agents.drivers import py_driver
from tf_agents.environments import batched_py_environment
from tf_agents.policies import policy_saver, random_py_policy
from tf_agents.specs import tensor_spec
from tf_agents.utils import common
from tqdm import tqdm  # the console bar: tqdm.auto would want ipywidgets in notebooks

from tfa_custom_nets import envs, replay
from tfa_custom_nets.agents import BranchingDqnAgent, EzGreedyPyPolicy
from tfa_custom_nets.agents.branching_policies import branch_sizes_of
from tfa_custom_nets.networks import BranchingQNetwork, JointQNetwork, KerasQNetwork
from tfa_custom_nets.training.compiled_policy import CompiledPyPolicy
from tfa_custom_nets.training.config import EnvConfig, TrainConfig
from tfa_custom_nets.training.episode_returns import EpisodeReturns
from tfa_custom_nets.training.evaluation import evaluate
from tfa_custom_nets.training.presets import resolve_ref
from tfa_custom_nets.training.run_files import (
    MetricsLog,
    make_run_dir,
    plot_learning_curve,
    release_free_memory,
    rss_mb,
    write_json,
)

EVAL_SEED_OFFSET = 1_000_000  # eval episodes never share seeds with the training env


def make_env(env_config: EnvConfig, seed: int | None = None) -> envs.GymnasiumEnvironment:
    """The config's env: `gymnasium.make(id, **make_kwargs)` or its `make` factory's, joint-wrapped if asked."""
    if env_config.make is None:
        gym_env = gym.make(env_config.id, **env_config.make_kwargs)
    else:
        gym_env = resolve_ref(env_config.make, "env.make")(env_config.id, **env_config.make_kwargs)
    if env_config.joint_actions:
        gym_env = envs.JointActionWrapper(gym_env)
    return envs.load(gym_env, seed=seed)


def branch_spec(env: envs.GymnasiumEnvironment, action_spec):
    """The `(D,)` action spec behind a joint-wrapped env (what the branch model is built for), else `action_spec`."""
    wrapper = env.gym_env
    if not isinstance(wrapper, envs.JointActionWrapper):
        return action_spec
    return tensor_spec.BoundedTensorSpec((len(wrapper.nvec),), tf.int64, 0, wrapper.nvec - 1, name="action")


def set_tf_threads(threads: int | None) -> int:
    """Sets the threads one TensorFlow op may use, if TensorFlow has not run an op yet in this
    process; returns the setting in force (0: TensorFlow's default). After the first op it is fixed:
    a different request then warns and changes nothing.
    """
    if threads is not None:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
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
    """The network that fits the agent kind and the action spec, around the config's Keras model."""
    model_fn = resolve_ref(config.network.model, "network.model")

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


def make_agent(config: TrainConfig, time_step_spec, action_spec, env_steps: tf.Variable, model_action_spec=None):
    """The DqnAgent/DdqnAgent/BranchingDqnAgent with its network and its epsilon schedule (a function of
    `env_steps`, returned too).

    `model_action_spec` is the `(D,)` spec the Keras model is built for when the agent sees
    joint actions (`branch_spec`); by default the agent's own action spec.
    """
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
        updates = max(1, (config.total_env_steps - warmup) // config.update_every)
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
        **kind_kwargs,
    )
    agent.initialize()
    return agent, epsilon


def make_agent_for_env(config: TrainConfig, env: envs.GymnasiumEnvironment, env_steps: tf.Variable):
    """`make_agent` for the specs of `env` (one of the config's envs): `(agent, epsilon)`."""
    time_step_spec = tensor_spec.from_spec(env.time_step_spec())
    action_spec = tensor_spec.from_spec(env.action_spec())
    return make_agent(config, time_step_spec, action_spec, env_steps, branch_spec(env, action_spec))


class _Done:
    """A finished result with the `Future.result()` interface (synchronous updates)."""

    def __init__(self, value):
        self._value = value

    def result(self):
        return self._value


def make_train_step(agent, iterator, config: TrainConfig, address: str | None = None, table_name: str | None = None):
    """`k` updates in one compiled call, each on the next replay batch: `(k=1) -> (last loss, largest new priority)`.

    The updates run in a `tf.while_loop` inside one `tf.function` (one call, no Python between
    updates); each is a full `agent.train`, so the target network's hard or soft update and the
    train step counter advance exactly as with `k` separate calls. With prioritized replay each
    update's loss is weighted by importance-sampling weights (beta annealed linearly from
    `importance_beta_start` to 1 over the run's updates) and the sampled items' priorities are set
    to `|TD error| + priority_epsilon` before the next update samples.
    """
    replay_config = config.replay
    prioritized = replay_config.prioritized
    # The optimizer's slots must exist before the loop: variables cannot be created inside a while loop.
    agent._optimizer.build(agent._q_network.trainable_variables)
    if prioritized:
        client = reverb.TFClient(address)
        updates = max(1, (config.total_env_steps - replay_config.learning_starts) // config.update_every)
        beta_start = replay_config.importance_beta_start

    def one_update():
        experience, info = next(iterator)
        if not prioritized:
            return agent.train(experience).loss, tf.constant(0.0, tf.float64)
        progress = tf.minimum(tf.cast(agent.train_step_counter, tf.float64) / updates, 1.0)
        beta = beta_start + (1.0 - beta_start) * progress
        loss_info = agent.train(experience, weights=replay.importance_weights(info.probability, info.table_size,
                                                                              beta))
        priorities = replay.td_priorities(loss_info.extra.td_error, replay_config.priority_epsilon)
        with tf.control_dependencies([client.update_priorities(table_name, info.key, priorities)]):
            return tf.identity(loss_info.loss), tf.reduce_max(priorities)

    @tf.function(input_signature=[tf.TensorSpec([], tf.int32)], autograph=False)
    def updates_fn(k):
        def body(i, loss, max_priority):
            new_loss, new_max = one_update()
            return i + 1, new_loss, tf.maximum(max_priority, new_max)

        _, loss, max_priority = tf.while_loop(
            lambda i, *_: i < k, body, (tf.constant(0), tf.constant(float("nan")), tf.constant(0.0, tf.float64)),
            parallel_iterations=1)
        return loss, max_priority

    def train_steps(k: int = 1):
        return updates_fn(np.int32(k))  # a NumPy scalar: Python ints stay in TensorFlow's scalar cache

    return train_steps


def prepare_run_dir(config: TrainConfig, resume: bool = False, may_hold: tuple[str, ...] = ()) -> Path:
    """The run directory: `config.run_dir` checked for a resume, or a new one with `config.json` written."""
    if resume:
        return resumable_run_dir(config.run_dir)
    run_dir = make_run_dir(config.run_dir, config.env.id, config.name, config.seed, may_hold)
    write_json(run_dir / "config.json", config.to_dict())
    return run_dir


def save_policy(agent, run_dir: Path) -> None:
    """The greedy policy as a SavedModel in `run_dir/policy` (`tfa-nets eval` and `PolicySaver` users load it)."""
    with warnings.catch_warnings():  # TF warns that tfp's spec type is "experimental"; it loads fine
        warnings.filterwarnings("ignore", message="Encoding a StructuredValue with type tfp")
        policy_saver.PolicySaver(agent.policy, batch_size=None).save(str(run_dir / "policy"))


def next_mark(steps: int, interval: int) -> int:
    """The first multiple of `interval` after `steps`: when the next evaluation or checkpoint is due."""
    return (steps // interval + 1) * interval


def finite_loss(loss_tensor, when: str, run_dir: Path) -> float:
    """The loss as a float, or a FloatingPointError that says where the last good checkpoint is."""
    loss = float(loss_tensor)
    if not np.isfinite(loss):
        raise FloatingPointError(f"loss is {loss} {when}; the last good checkpoint is in {run_dir / 'checkpoints'}. "
                                 "Lower agent.learning_rate or set agent.gradient_clipping.")
    return loss


class Evaluations:
    """A run's greedy evaluations and what they write: metrics rows (CSV and TensorBoard), the
    first evaluation at the env's threshold, the summary and the learning-curve plot.

    `resumed` is a checkpoint's loop state (its `state()` keys); `returns` the training episodes'
    returns, where this process sees them.
    """

    def __init__(self, config: TrainConfig, agent, run_dir: Path, env, epsilon, resumed: dict | None = None,
                 returns: EpisodeReturns | None = None):
        self.config, self.run_dir, self.epsilon, self.returns = config, run_dir, epsilon, returns
        threshold = config.env.threshold
        if threshold is None and env.gym_env.unwrapped.spec is not None:
            threshold = env.gym_env.unwrapped.spec.reward_threshold
        self.threshold = threshold
        self.envs = [make_env(config.env) for _ in range(config.eval_episodes)]
        self.greedy = CompiledPyPolicy(agent.policy, batched=True)
        self.index, self.solved_at_step, self.solved_at_seconds = 0, None, None
        self.next_eval = config.eval_interval
        if resumed is not None:
            self.index, self.next_eval = resumed["eval_index"], resumed["next_eval"]
            self.solved_at_step, self.solved_at_seconds = resumed["solved_at_step"], resumed["solved_at_seconds"]
        self.last = None  # (env_steps, scores) of the latest evaluation
        self.log = MetricsLog(run_dir, resume_before=self.next_eval if resumed is not None else None)

    def state(self) -> dict:
        return {"eval_index": self.index, "solved_at_step": self.solved_at_step,
                "solved_at_seconds": self.solved_at_seconds, "next_eval": self.next_eval}

    def due(self, env_steps: int) -> bool:
        return env_steps >= self.next_eval

    def run(self, env_steps: int, updates: int, train_seconds: float, loss: float) -> np.ndarray:
        """Evaluates now and writes the metrics row."""
        config = self.config
        scores = evaluate(self.greedy, self.envs, EVAL_SEED_OFFSET + config.seed * 10_000
                          + self.index * config.eval_episodes)
        self.index += 1
        if self.solved_at_step is None and self.threshold is not None and scores.mean() >= self.threshold:
            self.solved_at_step, self.solved_at_seconds = env_steps, train_seconds
        self.log.add({"env_steps": env_steps, "updates": updates, "train_seconds": round(train_seconds, 3),
                      "eval_mean": float(scores.mean()), "eval_std": float(scores.std()),
                      "eval_min": float(scores.min()), "eval_max": float(scores.max()),
                      "train_return": None if self.returns is None else self.returns.mean(),
                      "epsilon": float(self.epsilon()), "loss": loss,
                      "env_steps_per_s": env_steps / train_seconds if train_seconds else None,
                      "rss_mb": round(rss_mb(), 1)})
        self.last = (env_steps, scores)
        return scores

    def run_if_due(self, env_steps: int, updates: int, train_seconds: float, loss: float,
                   done: bool = False) -> np.ndarray | None:
        """Evaluates at the eval interval and once at the end (`done`), never twice at one step."""
        if not (done or self.due(env_steps)) or (self.last is not None and self.last[0] == env_steps):
            return None
        scores = self.run(env_steps, updates, train_seconds, loss)
        self.next_eval = next_mark(env_steps, self.config.eval_interval)
        return scores

    def summary(self, env_steps: int, updates: int, train_seconds: float, wall_seconds: float) -> dict:
        final_steps, final_scores = self.last
        assert final_steps == env_steps, (final_steps, env_steps)
        return {
            "env_id": self.config.env.id,
            "seed": self.config.seed,
            "eval_mean": float(final_scores.mean()),
            "eval_std": float(final_scores.std()),
            "eval_episodes": int(final_scores.size),
            "threshold": self.threshold,
            "solved_at_step": self.solved_at_step,
            "solved_at_seconds": None if self.solved_at_seconds is None else round(self.solved_at_seconds, 3),
            "env_steps": env_steps,
            "updates": updates,
            "train_seconds": round(train_seconds, 3),
            "wall_seconds": round(wall_seconds, 3),
            "env_steps_per_s": round(env_steps / train_seconds, 1),
            "updates_per_s": round(updates / train_seconds, 1),
            "run_dir": str(self.run_dir),
        }

    def plot(self) -> None:
        config = self.config
        plot_learning_curve(self.log.rows, self.threshold, f"{config.name} ({config.env.id}, seed {config.seed})",
                            self.run_dir / "learning_curve.png")

    def close(self) -> None:
        self.log.close()
        for env in self.envs:
            env.close()


def resumable_run_dir(run_dir: str | Path) -> Path:
    """`run_dir` if it holds an unfinished run with a checkpoint, else a ValueError that says why."""
    path = Path(run_dir)
    if not (path / "config.json").is_file():
        raise ValueError(f"cannot resume {path}: no config.json there (is it a run directory?).")
    if (path / "summary.json").is_file():
        raise ValueError(f"cannot resume {path}: the run finished (summary.json is written).")
    if tf.train.latest_checkpoint(str(path / "checkpoints")) is None:
        raise ValueError(f"cannot resume {path}: it has no checkpoint yet; start it again instead.")
    return path


def _rng_states(train_envs, collect_policy) -> dict:
    numpy_state = np.random.get_state()
    return {"numpy": [numpy_state[0], numpy_state[1].tolist(), *numpy_state[2:]],
            "python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
            "envs": [env.gym_env.unwrapped.np_random.bit_generator.state for env in train_envs],
            "collect": collect_policy.rng.bit_generator.state if isinstance(collect_policy, EzGreedyPyPolicy) else None}


def _restore_rng_states(states: dict, train_envs, collect_policy) -> None:
    if states.get("collect") is not None:
        collect_policy.rng.bit_generator.state = states["collect"]
    kind, keys, *rest = states["numpy"]
    np.random.set_state((kind, np.asarray(keys, np.uint32), *rest))
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    for env, env_state in zip(train_envs, states["envs"], strict=True):
        generator = np.random.Generator(getattr(np.random, env_state["bit_generator"])())
        generator.bit_generator.state = env_state
        env.gym_env.unwrapped.np_random = generator
        env.seed(None)  # the next reset draws from the restored generator instead of reseeding


def train_env_seed(seed: int, index: int) -> int:
    """Training env `index`'s seed: env 0 takes the run's seed; others are spread out so that runs
    with nearby seeds never share an env seed."""
    return seed + 100_003 * index


class StepCounter:
    """A `PyDriver` observer counting env steps (boundary LAST -> FIRST transitions are resets, not steps)."""

    def __init__(self):
        self.steps = 0

    def __call__(self, trajectory) -> None:
        self.steps += int(np.sum(~trajectory.is_boundary()))


def train_eval(config: TrainConfig, resume: bool = False) -> dict:
    """Trains, evaluates and writes a run directory; returns the summary dict.

    With `resume`, continues the run in `config.run_dir` from its last checkpoint: agent and
    optimizer variables, step counters (so the epsilon and beta schedules), evaluation
    bookkeeping, RNG states, metrics and the Reverb replay. The episode that was running when
    the process stopped starts over, and TensorFlow's sampling ops are reseeded (their state
    cannot be saved), so a resumed run is not bit-identical to an uninterrupted one.
    """
    tf_threads = set_tf_threads(config.tf_threads)  # first: any TensorFlow op fixes the setting
    run_dir = prepare_run_dir(config, resume)
    seed_everything(config.seed)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()

    num_envs = config.num_envs
    train_envs = [make_env(config.env, seed=train_env_seed(config.seed, i)) for i in range(num_envs)]
    # Several envs step as one batch (one policy call per batch); a single env is stepped unbatched.
    env = train_envs[0] if num_envs == 1 else batched_py_environment.BatchedPyEnvironment(train_envs,
                                                                                          multithreading=False)
    batch = None if num_envs == 1 else num_envs
    env_steps_var = tf.Variable(0, dtype=tf.int64, name="env_steps")
    agent, epsilon = make_agent_for_env(config, train_envs[0], env_steps_var)
    # The loop's own state (counters, RNG states, the matching replay checkpoint) as JSON in the
    # same TensorFlow checkpoint, so one atomic checkpoint holds everything a resume needs.
    loop_state = tf.Variable("", dtype=tf.string, name="loop_state")
    n_step, replay_config = config.agent.n_step_update, config.replay
    memory = replay_config.backend == "memory"
    # The in-memory buffer's variables go into the TensorFlow checkpoint; Reverb checkpoints itself.
    buffer = replay.make_memory_buffer(agent.collect_data_spec, replay_config.capacity, num_envs) if memory else None
    checkpointer = common.Checkpointer(  # restores the latest checkpoint in the folder, if any
        ckpt_dir=str(run_dir / "checkpoints"), max_to_keep=2, agent=agent, env_steps=env_steps_var,
        loop_state=loop_state, **({"replay_buffer": buffer} if memory else {}))
    state = json.loads(loop_state.numpy().decode()) if resume else None
    if state is not None:  # fresh, reproducible op seeds; before any Reverb TF client exists, since
        # reseeding clears TensorFlow's kernel cache and with it the clients' resources
        tf.random.set_seed(config.seed + 1_000_003 * (len(state["resumes"]) + 1))
    replay_dir = run_dir / "replay"
    if state is not None and not memory:
        replay.replay_checkpoint_to_resume(replay_dir, state["replay_checkpoint"])
    table_kwargs = {"min_size": replay_config.batch_size, "n_step_update": n_step,
                    "samples_per_insert": replay_config.samples_per_insert}
    server = client = table = None
    if memory:
        observer = replay.MemoryObserver(buffer, batch)
        iterator = replay.make_memory_sampler(buffer, replay_config.batch_size, n_step)
        train_step = make_train_step(agent, iterator, config)
    else:
        if replay_config.prioritized:
            table = replay.make_prioritized_table(agent.collect_data_spec, replay_config.capacity,
                                                  priority_exponent=replay_config.priority_exponent, **table_kwargs)
        else:
            table = replay.make_uniform_table(agent.collect_data_spec, replay_config.capacity, **table_kwargs)
        server = replay.start_server([table], checkpoint_dir=str(replay_dir))
        address = f"localhost:{server.port}"
        client = reverb.Client(address)
        observer = replay.make_observer(client, n_step_update=n_step, table_name=table.name, num_envs=batch)
        iterator = iter(replay.make_dataset(address, replay_config.batch_size, table_name=table.name))
        train_step = make_train_step(agent, iterator, config, address, table.name)

    epsilon_now = 1.0  # epsilon read once per iteration (it moves with env_steps_var), not at every step
    if config.agent.exploration == "ez_greedy":
        collect_policy = EzGreedyPyPolicy(CompiledPyPolicy(agent.policy, batched=batch is not None),
                                          epsilon=lambda: epsilon_now, mu=config.agent.ez_mu,
                                          max_repeat=config.agent.ez_max_repeat, seed=config.seed, num_envs=batch)
    else:
        collect_policy = CompiledPyPolicy(agent.collect_policy, batched=batch is not None)

    def replay_items() -> int:
        """Steps in the memory buffer, or items in the Reverb table."""
        return observer.num_frames() if memory else client.server_info()[table.name].current_size
    returns = EpisodeReturns(window=10)

    env_steps, updates, train_seconds = 0, 0, 0.0
    next_checkpoint = config.checkpoint_interval
    loss = float("nan")
    resumes = []
    if state is not None:
        env_steps, updates, train_seconds = (state[k] for k in ("env_steps", "updates", "train_seconds"))
        next_checkpoint = state["next_checkpoint"]
        if replay_config.prioritized:
            observer.priority = state["priority"]
        returns.recent.extend(state["recent_returns"])
        resumes = state["resumes"] + [{"env_steps": env_steps, "updates": updates,
                                       "replay_items_saved": state["replay_items"],
                                       "replay_items_loaded": replay_items()}]
        _restore_rng_states(state["rng"], train_envs, collect_policy)
        write_json(run_dir / "resumes.json", {"resumes": resumes})
    evaluations = Evaluations(config, agent, run_dir, train_envs[0], epsilon, resumed=state, returns=returns)
    start = time.perf_counter()

    def save_checkpoint():
        """Replay first, then the agent's checkpoint naming it (a kill between the two resumes the
        previous agent checkpoint with the newer replay: `replay_checkpoint_to_resume`)."""
        observer.flush()
        replay_name = None
        if not memory:
            replay_name = replay.checkpoint_replay(client)
            release_free_memory()  # the table's serialization buffers, freed but held by the allocator
        loop_state.assign(json.dumps({
            "env_steps": env_steps, "updates": updates, "train_seconds": train_seconds, **evaluations.state(),
            "next_checkpoint": next_checkpoint, "priority": getattr(observer, "priority", None),
            "recent_returns": list(returns.recent), "resumes": resumes, "rng": _rng_states(train_envs, collect_policy),
            "replay_checkpoint": replay_name, "replay_items": replay_items()}))
        env_steps_var.assign(np.int64(env_steps))
        checkpointer.save(global_step=agent.train_step_counter)

    learner = None
    bar = None
    try:
        bar = tqdm(total=config.total_env_steps, unit="step", disable=not config.progress,
                   mininterval=1.0, dynamic_ncols=True, desc=config.name)
        tick = time.perf_counter()
        if state is None:
            # Warm-up: a uniform random policy fills the table before the first update.
            warmup_policy = random_py_policy.RandomPyPolicy(env.time_step_spec(), env.action_spec(),
                                                            seed=config.seed,
                                                            outer_dims=() if batch is None else (batch,))
            warmup_counter = StepCounter()
            time_step, _ = py_driver.PyDriver(
                env, warmup_policy, [observer, returns, warmup_counter], max_steps=config.replay.learning_starts
            ).run(env.reset())
            env_steps = warmup_counter.steps
        else:
            time_step = env.reset()
        bar.update(env_steps)

        # Each iteration collects `collect_steps` steps of every env (at least `update_every` env
        # steps), then runs the updates now due, all in one compiled call: `updates` stays exactly
        # floor((env_steps - learning_starts) / update_every).
        collect_steps = -(-config.update_every // num_envs)
        counter = StepCounter()
        collect = py_driver.PyDriver(env, collect_policy, [observer, returns, counter],
                                     max_steps=collect_steps * num_envs)
        # With async_updates, the updates for the steps just collected run on a second
        # thread (TensorFlow releases the GIL) while the next steps are collected: the
        # ratio stays the same, the acting policy is at most one iteration's updates behind,
        # and everything waits for them before eval and checkpoints. The memory buffer takes
        # each iteration's steps between updates (observer.flush), never while one samples it.
        # With `deterministic`, updates run in turn: the acting policy never reads weights
        # mid-update, so a memory-backend run then depends only on its seed.
        learner = (ThreadPoolExecutor(1, thread_name_prefix="learner")
                   if config.async_updates and not config.deterministic else None)
        pending = None
        loss_tensor = None

        def finish_update():
            nonlocal pending, loss_tensor
            if pending is not None:
                loss_tensor, max_priority = pending.result()
                pending = None
                if replay_config.prioritized:  # new items enter at the largest priority seen
                    observer.priority = max(observer.priority, float(max_priority))

        def report_if_due():
            """Checkpoints and evaluates at their intervals and at the end of training."""
            nonlocal next_checkpoint, train_seconds, tick, loss
            done = env_steps >= config.total_env_steps
            if not (done or evaluations.due(env_steps) or env_steps >= next_checkpoint):
                return
            finish_update()
            if loss_tensor is not None:
                loss = finite_loss(loss_tensor, f"at env step {env_steps}", run_dir)
            train_seconds += time.perf_counter() - tick  # checkpoints count, evaluation does not
            tick = time.perf_counter()
            if env_steps >= next_checkpoint:
                next_checkpoint = next_mark(env_steps, config.checkpoint_interval)
                save_checkpoint()
                train_seconds += time.perf_counter() - tick
            scores = evaluations.run_if_due(env_steps, updates, train_seconds, loss, done)
            if scores is not None:
                bar.set_postfix(eval=f"{scores.mean():.1f}", ret=f"{returns.mean() or 0:.1f}",
                                eps=f"{float(epsilon()):.2f}", sps=f"{env_steps / train_seconds:.0f}",
                                refresh=False)
            tick = time.perf_counter()

        report_if_due()  # resumed: the evaluation that was due at the checkpoint, if it had not run
        while env_steps < config.total_env_steps:
            # A NumPy value: each distinct Python int passed to TensorFlow stays in its scalar
            # cache, which grew this process by ~80 MB per 100k assigns (benchmarks/soak.py).
            env_steps_var.assign(np.int64(env_steps))
            if isinstance(collect_policy, EzGreedyPyPolicy):
                epsilon_now = float(epsilon())
            counter.steps = 0
            time_step, _ = collect.run(time_step)
            env_steps += counter.steps
            due = (env_steps - replay_config.learning_starts) // config.update_every - updates
            finish_update()
            if memory:
                observer.flush()
            if due > 0:
                pending = _Done(train_step(due)) if learner is None else learner.submit(train_step, due)
                if learner is None:
                    finish_update()
            updates += due
            bar.update(counter.steps)
            report_if_due()

        finish_update()
        if evaluations.last is None or evaluations.last[0] != env_steps:  # resumed from the very end
            train_seconds += time.perf_counter() - tick
            evaluations.run(env_steps, updates, train_seconds, loss)
        save_checkpoint()
        save_policy(agent, run_dir)
        summary = evaluations.summary(env_steps, updates, train_seconds, time.perf_counter() - start)
        summary["tf_threads"] = tf_threads
        write_json(run_dir / "summary.json", summary)
        evaluations.plot()
    finally:  # also on an error: stop the server and the learner thread, close the envs
        if learner is not None:
            learner.shutdown()
        if bar is not None:
            bar.close()
        evaluations.close()
        if server is not None:
            server.stop()
        env.close()
    return summary
