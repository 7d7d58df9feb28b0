"""Run configuration: frozen dataclasses, one field per value, checked on creation.

A run writes the whole resolved config to `config.json`; `from_dict` reads it back. The agent section
lives in `agent_config.py`.
`override(config, ["agent.learning_rate=3e-4", ...])` applies the CLI's `--set`.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any

from tfa_custom_nets.replay.backends import (
    BACKENDS,
    NEED_LABELS,
    Capabilities,
    capabilities_of,
    choosable,
    choose_backend,
    fits,
)
from tfa_custom_nets.training.agent_config import AgentConfig
from tfa_custom_nets.training.config_checks import check_types, require
from tfa_custom_nets.training.kinds import agent_kind

NAMES_CODE = {"names_code": True}  # a field's metadata: its value names a function that a run imports and calls


@dataclass(frozen=True)
class EnvConfig:
    """Which gymnasium environment, and when it counts as solved."""

    id: str = "CartPole-v1"
    """gymnasium id, made with `gymnasium.make(id, **make_kwargs)`."""
    make_kwargs: dict = field(default_factory=dict)
    """Keyword arguments for `gymnasium.make` (e.g. `max_episode_steps`)."""
    threshold: float | None = None
    """Greedy eval mean that counts as solved; None takes the env's `reward_threshold`."""
    make: str | None = field(default=None, metadata=NAMES_CODE)
    """`module:function` or `path/to/file.py:function` that builds the env as
    `function(id, **make_kwargs)` (registration, wrappers); None uses `gymnasium.make`."""
    joint_actions: bool = False
    """Wrap a MultiDiscrete env in `JointActionWrapper` (one index per combination) so the stock
    `dqn`/`ddqn` agent learns it through `JointQNetwork`; the model still gets the `(D,)` spec."""
    action_mask: str | None = None
    """Where the env publishes its action mask: `info` (`info["action_mask"]`, as Taxi does) or
    `observation` (an `"action_mask"` entry of a Dict observation). The agent then never acts on,
    explores or bootstraps from a masked action (`envs.action_masks`); None: no masking."""

    def __post_init__(self):
        check_types(self, "env.")
        require(self.action_mask in (None, "info", "observation"),
                f"env.action_mask must be None, 'info' or 'observation', got {self.action_mask!r}.")
        require(not (self.action_mask == "observation" and self.joint_actions),
                "env.action_mask='observation' with env.joint_actions=True: JointActionWrapper turns a per-branch "
                "mask into the joint one only from info['action_mask']. Fix: agent.kind='bdq' (masks per branch), "
                "or a wrapper that moves the mask into info.")
        require(self.threshold is None or math.isfinite(self.threshold),
                f"env.threshold must be a finite number or None, got {self.threshold}.")


@dataclass(frozen=True)
class NetworkConfig:
    """The Keras Q-model, named so `config.json` can rebuild it."""

    model: str = field(default="tfa_custom_nets.models:dense_q_model", metadata=NAMES_CODE)
    """`module:function` or `path/to/file.py:function`; called as
    `function(observation_spec, action_spec, **kwargs)` and returns a `tf.keras.Model`."""
    kwargs: dict = field(default_factory=lambda: {"hidden_units": [256, 256]})
    """Keyword arguments for the model function."""
    critic_model: str | None = field(default=None, metadata=NAMES_CODE)
    """The critic's builder for a kind with one (`sac`, `td3`, `ddpg`: a two-input Q(s, a) model through
    `networks.KerasCriticNetwork`; `ppo`: a value model V(s) through `networks.KerasValueNetwork`), called like
    `model` with `critic_kwargs`. `model` then builds the actor: for `sac` and `ppo` its named outputs give a
    `(mean, std)` pair per Box action component and logits per Discrete one (`networks.KerasActorDistributionNetwork`);
    for `td3` and `ddpg` it ends in the action, `[B, n]` (`networks.KerasActorNetwork`)."""
    critic_kwargs: dict = field(default_factory=dict)
    """Keyword arguments for the critic's builder."""
    actor_std: str = "softplus"
    """How the actor's standard deviations are made: `softplus` of its std outputs, `positive` (taken as they
    are), or `state_independent` (a learned log-std, no std outputs)."""

    def __post_init__(self):
        check_types(self, "network.")
        require(self.actor_std in ("softplus", "positive", "state_independent"),
                f"network.actor_std must be 'softplus', 'positive' or 'state_independent', got {self.actor_std!r}.")



@dataclass(frozen=True)
class ReplayConfig:
    """The Reverb replay table and how it is sampled."""

    capacity: int = 100_000
    """Transitions kept (FIFO)."""
    batch_size: int = 64
    """Transitions per update."""
    learning_starts: int = 1_000
    """Env steps collected with a uniform random policy before the first update."""
    backend: str = "auto"
    """`memory` (TF-Agents' TFUniformReplayBuffer: no server, no port, uniform, sampled inside the
    compiled update; with `deterministic=True` runs repeat exactly for a seed), `reverb` (a Reverb
    server in the process, on a local port that listens on all interfaces), or `auto`: memory
    unless the run needs Reverb (prioritized replay). Distributed runs always use Reverb."""
    prioritized: bool = False
    """Prioritized replay: sample in proportion to `|TD error|^priority_exponent` and weight the
    loss by importance-sampling weights; False samples uniformly."""
    priority_exponent: float = 0.6
    """alpha in [0, 1]: how strongly priorities skew sampling (0 is uniform)."""
    importance_beta_start: float = 0.4
    """beta at the first update; annealed linearly to 1 at the last (full correction)."""
    priority_epsilon: float = 1e-6
    """Added to |TD error| so that no item's priority is 0."""
    samples_per_insert: float | None = None
    """Sampled items per inserted item, held by a Reverb `SampleToInsertRatio` limiter. None: the
    loop's ratio, `batch_size / update_every` (`TrainConfig.samples_per_insert`), which a single
    process holds by counting (no limiter) and a distributed replay server enforces."""

    def __post_init__(self):
        check_types(self, "replay.")
        require(self.capacity >= 1, f"replay.capacity must be >= 1, got {self.capacity}.")
        require(self.batch_size >= 1, f"replay.batch_size must be >= 1, got {self.batch_size}.")
        require(self.learning_starts >= self.batch_size,
                f"replay.learning_starts ({self.learning_starts}) must be >= replay.batch_size "
                f"({self.batch_size}): the first batch is sampled from those steps.")
        require(self.backend == "auto" or self.backend in choosable(),
                f"replay.backend must be one of {('auto', *choosable())}, got {self.backend!r}.")
        if self.backend != "auto" and not fits(self.backend, self):
            lacking = [need for need in NEED_LABELS if not getattr(BACKENDS[self.backend].capabilities, need)]
            able = [name for name in choosable() if fits(name, self)]
            require(False, f"replay.backend={self.backend!r} {BACKENDS[self.backend].summary}; "
                           f"{' and '.join(NEED_LABELS[need] for need in lacking)} need "
                           f"{' or '.join(BACKENDS[name].label for name in able)}: "
                           f"{' or '.join(f'replay.backend={name!r}' for name in able)} or 'auto'.")
        require(0.0 <= self.priority_exponent <= 1.0,
                f"replay.priority_exponent must be in [0, 1], got {self.priority_exponent}.")
        require(0.0 <= self.importance_beta_start <= 1.0,
                f"replay.importance_beta_start must be in [0, 1], got {self.importance_beta_start}.")
        require(self.priority_epsilon > 0, f"replay.priority_epsilon must be > 0, got {self.priority_epsilon}.")
        require(self.samples_per_insert is None or self.samples_per_insert > 0,
                f"replay.samples_per_insert must be > 0 or None, got {self.samples_per_insert}.")
        require(self.capacity >= self.learning_starts,
                f"replay.capacity ({self.capacity}) must be >= replay.learning_starts "
                f"({self.learning_starts}).")


@dataclass(frozen=True)
class TrainConfig:
    """One training run: environment, model, agent, replay and the loop's schedule."""

    name: str = "run"
    """Experiment name, used in the run directory's name."""
    env: EnvConfig = field(default_factory=EnvConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    agent: AgentConfig = field(default_factory=AgentConfig)
    replay: ReplayConfig = field(default_factory=ReplayConfig)
    seed: int = 0
    """Seeds TensorFlow, NumPy, the env and the eval episodes."""
    total_env_steps: int = 50_000
    """Env steps of training, random warm-up included."""
    num_envs: int = 1
    """Training envs stepped as one batch (TF-Agents' `BatchedPyEnvironment`), with one policy
    call per batch; each keeps its own episodes and writes its own replay items."""
    update_every: int = 4
    """Env steps collected (over all envs) per gradient update: updates are kept at exactly
    `(env_steps - learning_starts) // update_every`, run as one compiled call per iteration."""
    async_updates: bool = True
    """Run each iteration's updates on a second thread while the next steps are collected
    (same ratio; the acting policy is at most one iteration's updates behind). False runs
    them in turn."""
    eval_interval: int = 5_000
    """Env steps between greedy evaluations."""
    eval_episodes: int = 20
    """Episodes per evaluation, the final one included."""
    checkpoint_interval: int = 10_000
    """Env steps between checkpoints (one is always written at the end)."""
    run_dir: str | None = None
    """Where the run writes; None makes `runs/{env}__{name}__{seed}__{time}`."""
    progress: bool = True
    """Show a progress bar."""
    deterministic: bool = False
    """Turn on TensorFlow's op determinism (for the whole process; slower) and run updates in
    turn with collection (async_updates is ignored); the DQN family then explores with a NumPy generator
    and the in-memory replay samples statelessly. With `replay.backend='memory'` a run then repeats
    exactly for a seed on the same machine, and with one env it resumes exactly (`exact_resume`)."""
    tf_threads: int | None = None
    """Threads one TensorFlow op may use (intra-op parallelism); None keeps TensorFlow's default
    (one per core). On the 2-core bench machine 1 and the default measured the same for the
    256x256 MLP pipeline (`benchmarks/results/pipeline.md`). Takes effect only if TensorFlow has
    not run an op yet in this process (it is fixed then); otherwise the run warns and keeps the
    process's setting.
    """

    def __post_init__(self):
        check_types(self)
        for name in ("total_env_steps", "num_envs", "update_every", "eval_interval", "eval_episodes",
                     "checkpoint_interval"):
            value = getattr(self, name)
            require(isinstance(value, int) and value >= 1, f"{name} must be an int >= 1, got {value!r}.")
        require(self.tf_threads is None or (isinstance(self.tf_threads, int) and self.tf_threads >= 1),
                f"tf_threads must be None (TensorFlow's default) or an int >= 1, got {self.tf_threads!r}.")
        require(isinstance(self.seed, int) and not isinstance(self.seed, bool) and self.seed >= 0,
                f"seed must be an int >= 0, got {self.seed!r}.")
        require(isinstance(self.name, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", self.name) is not None
                and ".." not in self.name,
                f"name must be letters, digits, '_', '-' and '.' (no '..', no path separator: it becomes part of "
                f"the run directory's name), got {self.name!r}.")
        require(not self.on_policy or self.update_every % self.num_envs == 0,
                f"agent.kind={self.agent.kind!r} collects rollouts of update_every={self.update_every} env steps over "
                f"num_envs={self.num_envs} envs stepped together, so update_every must be a multiple of num_envs "
                f"(it would become {-(-self.update_every // self.num_envs) * self.num_envs}). Fix: update_every="
                f"{-(-self.update_every // self.num_envs) * self.num_envs} or another multiple.")
        require(self.total_env_steps >= self.warmup_steps,
                f"total_env_steps ({self.total_env_steps}) must be >= replay.learning_starts "
                f"({self.replay.learning_starts}).")
        self.kind.check_config(self)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **values) -> TrainConfig:
        """A copy with top-level fields replaced by typed values (`seed=3`), validated like any config."""
        return dataclasses.replace(self, **values)

    # Values derived from the fields: each has this one definition.

    @property
    def replay_backend(self) -> str:
        """The replay backend a single-process run uses (`replay.backends.choose_backend`)."""
        return choose_backend(self)

    @property
    def replay_capabilities(self) -> Capabilities:
        """What that backend can do (`replay.backends.Capabilities`)."""
        return capabilities_of(self)

    @property
    def uses_reverb(self) -> bool:
        """A single-process run replays through a backend that needs dm-reverb: asked for, or needed (prioritized
        replay, a ratio limiter)."""
        return self.replay_capabilities.requires == "dm-reverb"

    @property
    def kind(self):
        """The `AgentKind` of `agent.kind`: what the loop asks about the agent."""
        return agent_kind(self.agent.kind)

    @property
    def on_policy(self) -> bool:
        """The agent learns from its latest rollout only (`ppo`): no replay, no warm-up."""
        return self.kind.on_policy

    @property
    def exact_resume(self) -> bool:
        """A run that a kill and `--resume` leave the same as one never stopped: `deterministic`, a replay that
        samples repeatably (the in-memory one), one training env and an agent that explores by epsilon (the DQN
        family). Its checkpoints wait for the env's episode to end (the env's own state cannot be saved), and
        every random draw comes from saved state (`docs/training.md`)."""
        return (self.deterministic and self.replay_capabilities.repeatable and self.num_envs == 1
                and self.kind.epsilon_greedy)

    @property
    def warmup_steps(self) -> int:
        """Uniform random env steps before the first update: `replay.learning_starts`, none on-policy."""
        return 0 if self.on_policy else self.replay.learning_starts

    def updates_due(self, env_steps: int) -> int:
        """Updates a run has made once `env_steps` are collected: one per `update_every` after the warm-up."""
        return max(0, (env_steps - self.warmup_steps) // self.update_every)

    @property
    def total_updates(self) -> int:
        return self.updates_due(self.total_env_steps)

    def env_steps_for(self, updates: int) -> int:
        """The env steps `updates` stand for (the distributed learner's clock)."""
        return min(self.total_env_steps, self.warmup_steps + updates * self.update_every)

    @property
    def samples_per_insert(self) -> float:
        """Sampled items per inserted item: the config's, or `batch_size / update_every`."""
        return self.replay.samples_per_insert or self.replay.batch_size / self.update_every

    def reverb_table_limits(self, distributed: bool) -> tuple[int, float | None]:
        """`(min_size, samples_per_insert)` of a Reverb replay table.

        A single process warms up `learning_starts` steps itself and counts its updates, so its table
        only waits for one batch and limits the ratio only if `replay.samples_per_insert` is set. A
        distributed replay server is the only place that can hold the actors and the learner to the
        ratio: it waits for the whole warm-up and always limits.
        """
        if distributed:
            return self.replay.learning_starts, self.samples_per_insert
        return self.replay.batch_size, self.replay.samples_per_insert

    def train_env_seed(self, index: int, seed: int | None = None) -> int:
        """Training env `index`'s seed: env 0 takes the run's (or a role's) seed; others are spread out
        so that runs with nearby seeds never share an env seed."""
        return (self.seed if seed is None else seed) + 100_003 * index

    def actor_seed(self, actor_id: int, restarts: int = 0) -> int:
        """Actor `actor_id`'s seed, far from the learner's and other actors'; a restarted actor plays new episodes."""
        return self.seed + 7_919 * (actor_id + 1) + 1_000_003 * restarts

    def eval_seed(self, index: int) -> int:
        """The first episode's seed of evaluation `index`: never a training env's seed."""
        return EVAL_SEED_OFFSET + self.seed * 10_000 + index * self.eval_episodes

    def resume_seed(self, resumes: int) -> int:
        """TensorFlow's op seed after the `resumes`-th resume (sampling ops' state cannot be saved)."""
        return self.seed + 1_000_003 * resumes


EVAL_SEED_OFFSET = 1_000_000  # eval episodes never share seeds with the training envs


def code_fields(config: TrainConfig) -> dict[tuple[str, str], str | None]:
    """Every field that names code (`NAMES_CODE`), as `{(section, field): value}`: the ones the trust rule
    checks and a run directory keeps copies of."""
    return {(section, f.name): getattr(getattr(config, section), f.name)
            for section in _SECTIONS for f in dataclasses.fields(_SECTIONS[section]) if f.metadata.get("names_code")}


def from_dict(data: dict, cls=TrainConfig, complete: bool = False, where: str = ""):
    """Rebuilds a config (e.g. from `config.json`), refusing unknown keys; with `complete`, also missing
    ones (a run's own config holds every value it ran with: a default filled in could change the run)."""
    require(isinstance(data, dict), f"{where or 'the config'} must be a JSON object, got {type(data).__name__}.")
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(names))
    require(not unknown, f"unknown {cls.__name__} keys {unknown}; expected some of {sorted(names)}.")
    missing = sorted(f"{where}{name}" for name in set(names) - set(data))
    require(not complete or not missing,
            f"the run's config has no value for {', '.join(missing)}: a run's config.json holds every setting it "
            "ran with, and a default filled in now could make it another run. Restore the file from the run, or "
            "add the missing keys with the values the run used.")
    kwargs = {}
    for key, value in data.items():
        sub = _SECTIONS.get(key) if cls is TrainConfig else None
        kwargs[key] = from_dict(value, sub, complete, f"{key}.") if sub is not None else value
    return cls(**kwargs)


_SECTIONS = {"env": EnvConfig, "network": NetworkConfig, "agent": AgentConfig, "replay": ReplayConfig}


def _parse(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return {"none": None, "null": None, "true": True, "false": False}.get(text.lower(), text)


def override(config: TrainConfig, assignments: list[str]) -> TrainConfig:
    """Applies `key=value` assignments; keys are dotted (`agent.learning_rate`).

    Values are Python literals (`3e-4`, `[64, 64]`, `None`); a bare word is a string.
    An int given where a float is expected is accepted; other type changes are refused.
    """
    data = config.to_dict()
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        require(bool(sep), f"--set expects key=value, got {assignment!r}.")
        *parents, leaf = key.strip().split(".")
        node = data
        for part in parents:
            require(isinstance(node.get(part), dict), f"--set {key}: no config section {part!r}.")
            node = node[part]
        require(leaf in node, f"--set {key}: unknown key; expected one of {sorted(node)}.")
        value, old = _parse(text.strip()), node[leaf]
        if isinstance(old, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        require(old is None or value is None or type(value) is type(old)
                or (isinstance(old, (list, tuple)) and isinstance(value, (list, tuple))),
                f"--set {key}={text}: expected a {type(old).__name__} like {old!r}, got "
                f"{type(value).__name__}.")
        if isinstance(value, float):
            require(math.isfinite(value), f"--set {key}: {value} is not finite.")
        node[leaf] = value
    return from_dict(data)
