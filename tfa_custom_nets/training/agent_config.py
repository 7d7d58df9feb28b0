"""`AgentConfig`: which TF-Agents agent learns, and its optimisation (a section of `TrainConfig`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tfa_custom_nets.training.config_checks import check_types, require
from tfa_custom_nets.training.kinds import KINDS, agent_kind

AGENT_KINDS = tuple(KINDS)


@dataclass(frozen=True)
class AgentConfig:
    """The TF-Agents agent (`kind`, one of `training.kinds.KINDS`) and its optimisation."""

    kind: str = "dqn"
    """`dqn` (DqnAgent), `ddqn` (DdqnAgent, double-Q targets), `bdq` (BranchingDqnAgent, double-Q, for
    MultiDiscrete actions), `c51` (CategoricalDqnAgent), `sac` (SacAgent, for Box actions: a Keras actor and two
    Keras critics; `learning_rate` serves actor, critics and temperature), `td3` (Td3Agent) and `ddpg` (DdpgAgent),
    for Box actions with a deterministic Keras actor, or `ppo` (PPOClipAgent, on-policy, for Box, Discrete and mixed
    dict actions: a Keras actor and value model; no replay, each rollout of `update_every` env steps is one update
    of `ppo_epochs` passes). The epsilon settings apply to the DQN family only (`tfa-nets kinds` lists them)."""
    options: dict = field(default_factory=dict)
    """Settings only one kind reads, by name (`td3`: `exploration_noise`, `policy_delay`, `target_noise`,
    `noise_clip`; `ddpg`: `ou_stddev`, `ou_damping`; `c51`: `num_atoms`, `min_q_value`, `max_q_value`); the kind
    refuses names it does not read, and fills in its defaults for the rest."""
    learning_rate: float = 1e-3
    """Adam learning rate (at the first update, with `learning_rate_end`)."""
    learning_rate_end: float | None = None
    """If set, the learning rate falls linearly from `learning_rate` to this at the run's last update."""
    gamma: float = 0.99
    """Discount factor in [0, 1]."""
    n_step_update: int = 1
    """Steps of reward summed before bootstrapping (replay items hold n + 1 steps)."""
    loss: str = "huber"
    """TD loss per element: `huber` or `mse`."""
    gradient_clipping: float | None = 10.0
    """Clip gradients to this global norm; None disables clipping."""
    target_update_period: int = 100
    """Updates (train steps) between target-network updates."""
    target_update_tau: float = 1.0
    """1.0 copies the online weights (hard update); below 1, Polyak averaging."""
    epsilon_start: float = 1.0
    """Exploration rate at the first learning step."""
    epsilon_end: float = 0.05
    """Exploration rate after the decay."""
    epsilon_decay_steps: int = 10_000
    """Env steps (after the warm-up) over which epsilon falls from start to end."""
    epsilon_schedule: str = "linear"
    """`linear` (equal steps down) or `exponential` (the same factor every step, `start *
    (end / start) ** progress`; needs epsilon_end > 0)."""
    exploration: str = "epsilon_greedy"
    """`epsilon_greedy` (one random action with probability epsilon), or `ez_greedy`: with
    probability epsilon a random action held for n steps, P(n) ∝ n ** -ez_mu for n = 1..ez_max_repeat
    (temporally-extended epsilon-greedy, Dabney et al. 2021; `agents.ez_greedy`)."""
    ez_mu: float = 2.0
    """`ez_greedy`: the zeta exponent of the hold length (0 makes every length equally likely)."""
    ez_max_repeat: int = 100
    """`ez_greedy`: the longest hold, in env steps."""
    target_aggregation: str = "mean"
    """`bdq` only: how branches' next-state values combine into the TD target (`mean`, `max`,
    `independent`)."""
    target_entropy: float | None = None
    """`sac` only: the policy entropy the temperature is tuned towards; None: -dim(action), the SAC paper's
    (TF-Agents' own default is half that)."""
    ppo_epochs: int = 10
    """`ppo` only: gradient passes over each rollout."""
    gae_lambda: float = 0.95
    """`ppo` only: lambda of the generalised advantage estimate (and of the value targets' TD(lambda) returns)."""
    clip_ratio: float = 0.2
    """`ppo` only: the importance ratio is clipped to [1 - clip_ratio, 1 + clip_ratio]."""
    entropy_coef: float = 0.0
    """`ppo` only: weight of the policy's entropy bonus in the loss."""

    def __post_init__(self):
        check_types(self, "agent.")
        kind = agent_kind(self.kind)  # a ValueError naming the known kinds, for an unknown one
        require(self.ppo_epochs >= 1 and 0 <= self.gae_lambda <= 1 and self.clip_ratio > 0 and self.entropy_coef >= 0,
                f"agent.ppo_epochs must be >= 1, gae_lambda in [0, 1], clip_ratio > 0 and entropy_coef >= 0; got "
                f"{self.ppo_epochs}, {self.gae_lambda}, {self.clip_ratio}, {self.entropy_coef}.")
        kind.check_agent(self)
        require(self.target_aggregation in ("mean", "max", "independent"),
                f"agent.target_aggregation must be 'mean', 'max' or 'independent', got {self.target_aggregation!r}.")
        require(self.loss in ("huber", "mse"), f"agent.loss must be 'huber' or 'mse', got {self.loss!r}.")
        require(self.learning_rate > 0, f"agent.learning_rate must be > 0, got {self.learning_rate}.")
        require(self.learning_rate_end is None or 0 <= self.learning_rate_end <= self.learning_rate,
                f"agent.learning_rate_end must be in [0, learning_rate={self.learning_rate}] or None, got "
                f"{self.learning_rate_end}.")
        require(0.0 <= self.gamma <= 1.0, f"agent.gamma must be in [0, 1], got {self.gamma}.")
        require(self.n_step_update >= 1, f"agent.n_step_update must be >= 1, got {self.n_step_update}.")
        require(0.0 < self.target_update_tau <= 1.0,
                f"agent.target_update_tau must be in (0, 1], got {self.target_update_tau}; "
                "1.0 is a hard copy, 0.005 a slow Polyak average.")
        require(self.target_update_period >= 1,
                f"agent.target_update_period must be >= 1 update, got {self.target_update_period}.")
        require(self.gradient_clipping is None or self.gradient_clipping > 0,
                f"agent.gradient_clipping must be > 0 or None, got {self.gradient_clipping}.")
        for name in ("epsilon_start", "epsilon_end"):
            value = getattr(self, name)
            require(0.0 <= value <= 1.0, f"agent.{name} must be in [0, 1], got {value}.")
        require(self.epsilon_schedule in ("linear", "exponential"),
                f"agent.epsilon_schedule must be 'linear' or 'exponential', got {self.epsilon_schedule!r}.")
        require(self.epsilon_schedule != "exponential" or 0 < self.epsilon_end <= self.epsilon_start,
                f"agent.epsilon_schedule='exponential' needs 0 < epsilon_end <= epsilon_start, got "
                f"{self.epsilon_end} and {self.epsilon_start}; use 'linear' to decay to 0.")
        require(self.epsilon_decay_steps >= 1,
                f"agent.epsilon_decay_steps must be >= 1, got {self.epsilon_decay_steps}.")
        require(self.exploration in ("epsilon_greedy", "ez_greedy"),
                f"agent.exploration must be 'epsilon_greedy' or 'ez_greedy', got {self.exploration!r}.")
        require(self.ez_mu >= 0 and self.ez_max_repeat >= 1,
                f"agent.ez_mu must be >= 0 and agent.ez_max_repeat >= 1, got {self.ez_mu} and {self.ez_max_repeat}.")
