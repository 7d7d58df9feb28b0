"""`AgentKind`: what the training loop asks of an agent kind, and the answers most kinds share.

A kind is one module (`kinds/<name>.py`) with one `AgentKind` subclass and one line in `kinds.KINDS`. The loop
never asks which kind it runs: it asks the kind.

    kind = agent_kind(config.agent.kind)
    kind.check_agent(config.agent); kind.check_config(config)      # on config creation
    agent, epsilon = kind.make_agent(config, time_step_spec, action_spec, model_action_spec, env_steps)
    kind.optimizer_variables(agent)     # [(optimizer, variables)]: slots made before the compiled update
    kind.checkpointed(agent)            # what goes into the run's checkpoint
    kind.greedy_policy(agent)           # the policy evaluated and saved
    kind.progress(epsilon)              # the progress bar's fields for this kind

This module imports no TensorFlow; a kind's module does, when the kind is first asked for.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, ClassVar


def require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


class AgentKind(ABC):
    """One `agent.kind`. Subclasses set the attributes and implement `make_agent` and `optimizer_variables`."""

    name: ClassVar[str] = ""
    on_policy: ClassVar[bool] = False
    """Learns from its latest rollout only: no replay, no warm-up, one update per rollout."""
    epsilon_greedy: ClassVar[bool] = False
    """Explores by the agent's epsilon schedule (the DQN family): ez-greedy may replace it, the progress bar shows
    epsilon, and a deterministic run draws it from a saved NumPy generator (`TrainConfig.exact_resume`)."""
    critic: ClassVar[str | None] = None
    """What `network.critic_model` builds (`"Q(s, a)"`, `"V(s)"`) with a packaged example; None: no critic."""
    critic_example: ClassVar[str | None] = None
    nested_actions: ClassVar[bool] = False
    """Takes a Dict or Tuple action (one distribution per component)."""
    takes_masks: ClassVar[bool] = False
    """Honours `env.action_mask` (acts, explores and bootstraps on allowed actions only)."""
    takes_joint_actions: ClassVar[bool] = False
    """Accepts `env.joint_actions` (one index per MultiDiscrete combination) at config time."""
    writes_priorities: ClassVar[bool] = False
    """Its loss reports per-item TD errors, so prioritized replay can write them back."""
    distributed: ClassVar[bool] = False
    """The replay-server / actors / learner roles train it."""
    n_step: ClassVar[bool] = False
    """Learns from n-step returns (`agent.n_step_update`)."""
    options: ClassVar[dict[str, Any]] = {}
    """The `agent.options` this kind reads, with their defaults."""

    # Checks, on config creation.

    def check_agent(self, agent) -> None:
        """Checks the agent section (`AgentConfig`) against what this kind can do."""
        unknown = sorted(set(agent.options) - set(self.options))
        require(not unknown, f"agent.options {unknown} mean nothing to agent.kind={self.name!r}; it reads "
                             f"{sorted(self.options) or 'none'} (defaults {self.options}).")
        for key, value in agent.options.items():
            default = self.options[key]
            numeric = isinstance(default, (int, float)) and not isinstance(default, bool)
            ok = (isinstance(value, (int, float)) and not isinstance(value, bool)) if numeric else \
                isinstance(value, type(default))
            require(ok, f"agent.options[{key!r}] must be a {type(default).__name__} like its default "
                        f"{default!r}, got {value!r}.")
        if not self.epsilon_greedy:
            require(agent.exploration == "epsilon_greedy",
                    f"agent.kind={self.name!r} explores with its own collect policy; got exploration="
                    f"{agent.exploration!r}. Fix: leave agent.exploration at 'epsilon_greedy'.")
        if not self.n_step:
            require(agent.n_step_update == 1,
                    f"agent.kind={self.name!r} learns from one-step transitions; got n_step_update="
                    f"{agent.n_step_update}. Fix: leave it at 1.")

    def check_config(self, config) -> None:
        """Checks the whole run config (`TrainConfig`) against what this kind can do."""
        refused = [(label, setting) for label, setting, ok in (
            ("prioritized replay", f"replay.prioritized={config.replay.prioritized}",
             self.writes_priorities or not config.replay.prioritized),
            ("action mask", f"env.action_mask={config.env.action_mask!r}",
             self.takes_masks or config.env.action_mask is None),
            ("joint actions", f"env.joint_actions={config.env.joint_actions}",
             self.takes_joint_actions or not config.env.joint_actions),
        ) if not ok]
        require(not refused, f"agent.kind={self.name!r} takes no {' or '.join(label for label, _ in refused)}; got "
                             f"{', '.join(setting for _, setting in refused)}. Fix: leave "
                             f"{' and '.join(setting.split('=')[0] for _, setting in refused)} at the default, or "
                             f"use a kind that takes it ({', '.join(self._kinds_with(refused))}).")
        if self.critic is not None:
            require(config.network.critic_model is not None,
                    f"agent.kind={self.name!r} needs network.critic_model (a {self.critic} builder, e.g. "
                    f"'tfa_custom_nets.models:{self.critic_example}').")

    def _kinds_with(self, refused: list[str]) -> list[str]:
        from tfa_custom_nets.training.kinds import KINDS, agent_kind

        wanted = {"replay.prioritized": "writes_priorities", "env.action_mask": "takes_masks",
                  "env.joint_actions": "takes_joint_actions"}
        needs = [wanted[setting.split("=")[0]] for _, setting in refused]
        return [name for name in KINDS if all(getattr(agent_kind(name), need) for need in needs)] or ["none"]

    def option(self, config, key: str):
        """`agent.options[key]`, or this kind's default."""
        return config.agent.options.get(key, self.options[key])

    # What the loop builds and asks.

    @abstractmethod
    def make_agent(self, config, time_step_spec, action_spec, model_action_spec, env_steps) -> tuple[Any, Callable]:
        """The initialised TF-Agents agent and its exploration rate (a zero-argument function of `env_steps`)."""

    @abstractmethod
    def optimizer_variables(self, agent) -> list[tuple[Any, list]]:
        """Each optimizer the agent steps, with the variables it steps (its slots are made before the loop)."""

    def q_network(self, config, observation_spec, action_spec, model_action_spec):
        """The Q-network around the config's Keras model, for the kinds that learn one (the DQN family)."""
        raise ValueError(f"agent.kind={self.name!r} learns no Q-network of network.model (its model is an actor); "
                         "make_q_network serves the DQN family: dqn, ddqn, bdq, c51.")

    def checkpointed(self, agent) -> dict[str, Any]:
        """What the run's checkpoint holds of the agent (networks, optimizers, train step)."""
        return {"agent": agent}

    def greedy_policy(self, agent):
        """The policy a run evaluates and saves."""
        return agent.policy

    def progress(self, epsilon: Callable) -> dict[str, str]:
        """The progress bar's fields for this kind: epsilon where the kind explores by it."""
        return {"eps": f"{float(epsilon()):.2f}"} if self.epsilon_greedy else {}

    def describe(self) -> str:
        """One line for `tfa-nets kinds`."""
        return " ".join((self.__doc__ or "").split("\n\n")[0].split())
