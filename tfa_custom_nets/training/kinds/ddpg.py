"""`ddpg`: TF-Agents' DdpgAgent (Lillicrap et al. 2016) with the networks TD3 uses (`td3.DeterministicActorCritic`):
a deterministic Keras actor and one Keras Q(s, a) critic; exploration by Ornstein-Uhlenbeck noise on the actor's
action (`ou_stddev`, `ou_damping`: the paper's sigma 0.2 and theta 0.15 by default).

    agent=AgentConfig(kind="ddpg", target_update_tau=0.005, options={"ou_stddev": 0.2, "ou_damping": 0.15})
"""

from __future__ import annotations

from tf_agents.agents.ddpg import ddpg_agent

from tfa_custom_nets.training.kinds import parts
from tfa_custom_nets.training.kinds.base import require
from tfa_custom_nets.training.kinds.td3 import DeterministicActorCritic


class DDPG(DeterministicActorCritic):
    """ddpg: TF-Agents' DdpgAgent (flat Box actions), a deterministic Keras actor and a Keras Q(s, a) critic."""

    name = "ddpg"
    options = {"ou_stddev": 0.2, "ou_damping": 0.15}

    def check_agent(self, agent) -> None:
        super().check_agent(agent)
        options = {**self.options, **agent.options}
        require(options["ou_stddev"] >= 0 and options["ou_damping"] >= 0,
                f"agent.options for ddpg need ou_stddev >= 0 and ou_damping >= 0; got {options}.")

    def make_agent(self, config, time_step_spec, action_spec, model_action_spec, env_steps):
        actor, critic = self.networks(config, time_step_spec, action_spec)
        agent = ddpg_agent.DdpgAgent(
            time_step_spec, action_spec, actor_network=actor, critic_network=critic,
            ou_stddev=float(self.option(config, "ou_stddev")), ou_damping=float(self.option(config, "ou_damping")),
            target_update_period=config.agent.target_update_period, **self.common_kwargs(config))
        agent.initialize()
        return agent, parts.no_epsilon

    def optimizer_variables(self, agent):
        return [(agent._critic_optimizer, agent._critic_network.trainable_variables),
                (agent._actor_optimizer, agent._actor_network.trainable_variables)]
