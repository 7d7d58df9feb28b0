"""`ppo`: TF-Agents' PPOClipAgent with a Keras actor (`network.model`: one distribution per action component, so
Box, Discrete and dict actions of both) and value model (`network.critic_model`); GAE advantages and TD(lambda)
value targets, observations and rewards normalised as TF-Agents does by default. On-policy: each rollout of
`update_every` env steps is one update of `agent.ppo_epochs` passes."""

from __future__ import annotations

from tf_agents.agents.ppo import ppo_clip_agent

from tfa_custom_nets.networks import KerasValueNetwork
from tfa_custom_nets.training.kinds import parts
from tfa_custom_nets.training.kinds.base import AgentKind


class PPO(AgentKind):
    """ppo: TF-Agents' PPOClipAgent, on-policy (Box, Discrete and Dict actions), a Keras actor and V(s) model."""

    name = "ppo"
    on_policy = True
    nested_actions = True
    critic, critic_example = "V(s)", "dense_value_model"

    def make_agent(self, config, time_step_spec, action_spec, model_action_spec, env_steps):
        observation_spec, agent_config = time_step_spec.observation, config.agent
        actor = parts.keras_actor(config, observation_spec, action_spec, squash=False)
        value = KerasValueNetwork(observation_spec, parts.critic_builder(config, observation_spec, action_spec))
        agent = ppo_clip_agent.PPOClipAgent(
            time_step_spec, action_spec, optimizer=parts.adam(config),
            actor_net=actor, value_net=value, importance_ratio_clipping=agent_config.clip_ratio,
            lambda_value=agent_config.gae_lambda, discount_factor=agent_config.gamma,
            entropy_regularization=agent_config.entropy_coef, num_epochs=agent_config.ppo_epochs, use_gae=True,
            use_td_lambda_return=True, gradient_clipping=agent_config.gradient_clipping,
            train_step_counter=parts.train_step_counter())
        agent.initialize()
        return agent, parts.no_epsilon

    def optimizer_variables(self, agent):
        """One optimizer over both networks, as PPOAgent steps them."""
        return [(agent._optimizer, agent._actor_net.trainable_variables + agent._value_net.trainable_variables)]
