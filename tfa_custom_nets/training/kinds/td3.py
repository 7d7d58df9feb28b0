"""`td3`: TF-Agents' Td3Agent (Fujimoto et al. 2018) with a deterministic Keras actor (`network.model`, ending in
`[B, n]`, tanh-scaled to the action bounds by `KerasActorNetwork`) and two Keras Q(s, a) critics
(`network.critic_model` through `KerasCriticNetwork`, each with its own target). Exploration adds Gaussian noise
to the actor's action; the targets add clipped noise to the target actor's; the actor updates every
`policy_delay` critic updates and the targets every `agent.target_update_period` (the paper's d for both: 2).

    agent=AgentConfig(kind="td3", target_update_tau=0.005, target_update_period=2,
                      options={"exploration_noise": 0.1, "policy_delay": 2, "target_noise": 0.2, "noise_clip": 0.5})
"""

from __future__ import annotations

from tf_agents.agents.td3 import td3_agent

from tfa_custom_nets.networks import KerasActorNetwork, KerasCriticNetwork
from tfa_custom_nets.training.kinds import parts
from tfa_custom_nets.training.kinds.base import AgentKind, require


class DeterministicActorCritic(AgentKind):
    """A deterministic Keras actor and a Keras Q(s, a) critic: the networks TD3 and DDPG share."""

    critic, critic_example = "Q(s, a)", "dense_critic_model"

    def networks(self, config, time_step_spec, action_spec):
        parts.require_box(config, action_spec)
        observation_spec = time_step_spec.observation
        actor = KerasActorNetwork(observation_spec, action_spec,
                                  parts.model_builder(config, observation_spec, action_spec))
        critic = KerasCriticNetwork((observation_spec, action_spec),
                                    parts.critic_builder(config, observation_spec, action_spec))
        return actor, critic

    def common_kwargs(self, config) -> dict:
        agent_config = config.agent
        return {"actor_optimizer": parts.adam(config), "critic_optimizer": parts.adam(config),
                "target_update_tau": agent_config.target_update_tau,
                "td_errors_loss_fn": parts.critic_td_loss(config),
                "gamma": agent_config.gamma, "gradient_clipping": agent_config.gradient_clipping,
                "train_step_counter": parts.train_step_counter()}


class TD3(DeterministicActorCritic):
    """td3: TF-Agents' Td3Agent (flat Box actions), a deterministic Keras actor and two Keras Q(s, a) critics."""

    name = "td3"
    options = {"exploration_noise": 0.1, "policy_delay": 2, "target_noise": 0.2, "noise_clip": 0.5}

    def check_agent(self, agent) -> None:
        super().check_agent(agent)
        options = {**self.options, **agent.options}
        require(isinstance(options["policy_delay"], int) and options["policy_delay"] >= 1
                and min(options["exploration_noise"], options["target_noise"], options["noise_clip"]) >= 0,
                f"agent.options for td3 need an int policy_delay >= 1 and noise settings >= 0; got {options}.")

    def make_agent(self, config, time_step_spec, action_spec, model_action_spec, env_steps):
        actor, critic = self.networks(config, time_step_spec, action_spec)
        # TF-Agents delays the actor by actor_update_period and moves the targets every target_update_period
        # updates, apart: with both 2 (the paper's d) the actor steps on updates 1, 3, ... and the targets on 2, 4, ...
        delay = self.option(config, "policy_delay")
        agent = td3_agent.Td3Agent(
            time_step_spec, action_spec, actor_network=actor, critic_network=critic,
            exploration_noise_std=float(self.option(config, "exploration_noise")),
            target_update_period=config.agent.target_update_period, actor_update_period=delay,
            target_policy_noise=float(self.option(config, "target_noise")),
            target_policy_noise_clip=float(self.option(config, "noise_clip")), **self.common_kwargs(config))
        agent.initialize()
        return agent, parts.no_epsilon

    def optimizer_variables(self, agent):
        return [(agent._critic_optimizer, agent._critic_network_1.trainable_variables
                 + agent._critic_network_2.trainable_variables),
                (agent._actor_optimizer, agent._actor_network.trainable_variables)]
