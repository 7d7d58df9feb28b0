"""`sac`: TF-Agents' SacAgent with a Keras actor (`network.model`, tanh-squashed to the action bounds through
`KerasActorDistributionNetwork`) and two Keras critics (`network.critic_model` through `KerasCriticNetwork`);
one Adam learning rate for actor, critics and temperature."""

from __future__ import annotations

from tf_agents.agents.sac import sac_agent
from tf_agents.policies import greedy_policy

from tfa_custom_nets.networks import KerasCriticNetwork
from tfa_custom_nets.training.kinds import parts
from tfa_custom_nets.training.kinds.base import AgentKind


class SAC(AgentKind):
    """sac: TF-Agents' SacAgent (flat Box actions), a Keras actor and two Keras Q(s, a) critics."""

    name = "sac"
    critic, critic_example = "Q(s, a)", "dense_critic_model"

    def make_agent(self, config, time_step_spec, action_spec, model_action_spec, env_steps):
        parts.require_box(config, action_spec)
        observation_spec, agent_config = time_step_spec.observation, config.agent
        actor = parts.keras_actor(config, observation_spec, action_spec, squash=True)
        critic = KerasCriticNetwork((observation_spec, action_spec),
                                    parts.critic_builder(config, observation_spec, action_spec))
        target_entropy = agent_config.target_entropy
        agent = sac_agent.SacAgent(
            time_step_spec, action_spec, critic_network=critic, actor_network=actor,
            actor_optimizer=parts.adam(config), critic_optimizer=parts.adam(config),
            alpha_optimizer=parts.adam(config),
            target_update_tau=agent_config.target_update_tau, target_update_period=agent_config.target_update_period,
            td_errors_loss_fn=parts.critic_td_loss(config),
            gamma=agent_config.gamma, gradient_clipping=agent_config.gradient_clipping,
            target_entropy=-float(action_spec.shape[0]) if target_entropy is None else target_entropy,
            train_step_counter=parts.train_step_counter())
        agent.initialize()
        return agent, parts.no_epsilon

    def optimizer_variables(self, agent):
        return [(agent._critic_optimizer, agent._critic_network_1.trainable_variables
                 + agent._critic_network_2.trainable_variables),
                (agent._actor_optimizer, agent._actor_network.trainable_variables),
                (agent._alpha_optimizer, [agent._log_alpha])]

    def greedy_policy(self, agent):
        """SAC's policy samples its actor: the mode of the distribution is evaluated and saved."""
        return greedy_policy.GreedyPolicy(agent.policy)
