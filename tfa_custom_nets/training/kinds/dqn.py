"""The DQN family: `dqn` (TF-Agents' DqnAgent) and `ddqn` (DdqnAgent, double-Q targets), each around a Keras
Q-model through `KerasQNetwork`, or `JointQNetwork` when `env.joint_actions` made a MultiDiscrete action one
index per combination. `bdq` and `c51` build on `DqnFamily`."""

from __future__ import annotations

from tf_agents.agents.dqn import dqn_agent

from tfa_custom_nets.agents.branching_policies import branch_sizes_of
from tfa_custom_nets.networks import JointQNetwork, KerasQNetwork
from tfa_custom_nets.training.kinds import parts
from tfa_custom_nets.training.kinds.base import AgentKind


class DqnFamily(AgentKind):
    """A Q-learning agent with an epsilon schedule: subclasses name the agent class and build the Q-network."""

    epsilon_greedy = True
    takes_masks = True
    takes_joint_actions = True  # the Q-network decides: a joint one for dqn and ddqn, bdq's refuses with the fix
    writes_priorities = True
    distributed = True
    n_step = True
    agent_class = dqn_agent.DqnAgent

    def q_network(self, config, observation_spec, action_spec, model_action_spec):
        """The Q-network for `action_spec` around the config's Keras model (built for `model_action_spec`)."""
        parts.require_discrete(config, action_spec)
        observation_spec = parts.model_observation_spec(config, observation_spec)
        build = parts.model_builder(config, observation_spec, model_action_spec)
        if model_action_spec is not action_spec:
            return JointQNetwork(observation_spec, action_spec, build, branch_sizes=branch_sizes_of(model_action_spec))
        if action_spec.shape.rank != 0:
            raise ValueError(
                f"agent.kind={config.agent.kind!r} (TF-Agents' DqnAgent) takes one discrete action, but "
                f"{config.env.id!r} has a MultiDiscrete action of shape {action_spec.shape.as_list()}. Fix: "
                "agent.kind='bdq' (one Q-head per dimension), or env.joint_actions=True (one index per combination).")
        return KerasQNetwork(observation_spec, action_spec, build)

    def agent_kwargs(self, config, time_step_spec, action_spec, model_action_spec) -> dict:
        """The agent's network and the arguments beyond those every DQN-family agent takes."""
        return {"q_network": self.q_network(config, time_step_spec.observation, action_spec, model_action_spec),
                "td_errors_loss_fn": parts.TD_LOSSES[config.agent.loss]}

    def make_agent(self, config, time_step_spec, action_spec, model_action_spec, env_steps):
        agent_config, epsilon = config.agent, parts.epsilon_schedule(config, env_steps)
        agent = self.agent_class(
            time_step_spec, action_spec, optimizer=parts.adam(config), epsilon_greedy=epsilon,
            gamma=agent_config.gamma, n_step_update=agent_config.n_step_update,
            gradient_clipping=agent_config.gradient_clipping, target_update_period=agent_config.target_update_period,
            target_update_tau=agent_config.target_update_tau, train_step_counter=parts.train_step_counter(),
            observation_and_action_constraint_splitter=parts.mask_splitter(config),
            **self.agent_kwargs(config, time_step_spec, action_spec, model_action_spec))
        agent.initialize()
        return agent, epsilon

    def optimizer_variables(self, agent):
        return [(agent._optimizer, agent._q_network.trainable_variables)]


class DQN(DqnFamily):
    """dqn: TF-Agents' DqnAgent (Discrete actions; MultiDiscrete through env.joint_actions)."""

    name = "dqn"


class DDQN(DQN):
    """ddqn: TF-Agents' DdqnAgent, double-Q targets (Discrete actions; MultiDiscrete through env.joint_actions)."""

    name = "ddqn"
    agent_class = dqn_agent.DdqnAgent

