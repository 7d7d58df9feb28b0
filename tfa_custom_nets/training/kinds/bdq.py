"""`bdq`: the BranchingDqnAgent (one Q-head per MultiDiscrete dimension, double-Q targets) around a Keras model
with one output per branch, through `BranchingQNetwork`."""

from __future__ import annotations

from tfa_custom_nets.agents import BranchingDqnAgent
from tfa_custom_nets.networks import BranchingQNetwork
from tfa_custom_nets.training.kinds import parts
from tfa_custom_nets.training.kinds.dqn import DqnFamily


class BDQ(DqnFamily):
    """bdq: BranchingDqnAgent, one Q-head per dimension of a MultiDiscrete action (double-Q, masks per branch)."""

    name = "bdq"
    agent_class = BranchingDqnAgent

    def q_network(self, config, observation_spec, action_spec, model_action_spec):
        parts.require_discrete(config, action_spec)
        if action_spec.shape.rank != 1:
            raise ValueError(
                f"agent.kind='bdq' needs a MultiDiscrete (D,) action, but {config.env.id!r} has shape "
                f"{action_spec.shape.as_list()}" + (" (env.joint_actions=True made it one index: turn that off)."
                                                    if config.env.joint_actions else ". Fix: use 'dqn' or 'ddqn'."))
        observation_spec = parts.model_observation_spec(config, observation_spec)
        return BranchingQNetwork(observation_spec, action_spec,
                                 parts.model_builder(config, observation_spec, model_action_spec))

    def agent_kwargs(self, config, time_step_spec, action_spec, model_action_spec) -> dict:
        return {**super().agent_kwargs(config, time_step_spec, action_spec, model_action_spec),
                "target_aggregation": config.agent.target_aggregation}
