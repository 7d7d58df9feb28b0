"""`c51`: TF-Agents' CategoricalDqnAgent (Bellemare et al. 2017) around a Keras model through
`KerasCategoricalQNetwork`: the model gives `num_atoms` logits per action over a support spread evenly on
`[min_q_value, max_q_value]`. Its builder is called with `num_atoms=` added to `network.kwargs`.

    agent=AgentConfig(kind="c51", options={"num_atoms": 51, "min_q_value": 0.0, "max_q_value": 100.0})
"""

from __future__ import annotations

from tf_agents.agents.categorical_dqn import categorical_dqn_agent

from tfa_custom_nets.networks import KerasCategoricalQNetwork
from tfa_custom_nets.training.kinds import parts
from tfa_custom_nets.training.kinds.base import require
from tfa_custom_nets.training.kinds.dqn import DqnFamily


class C51(DqnFamily):
    """c51: TF-Agents' CategoricalDqnAgent, a return distribution per Discrete action."""

    name = "c51"
    writes_priorities = False  # its loss is a cross-entropy: TF-Agents reports no per-item TD error
    distributed = False
    agent_class = categorical_dqn_agent.CategoricalDqnAgent
    options = {"num_atoms": 51, "min_q_value": -10.0, "max_q_value": 10.0}

    def check_agent(self, agent) -> None:
        super().check_agent(agent)
        options = {**self.options, **agent.options}
        require(isinstance(options["num_atoms"], int) and options["num_atoms"] >= 2
                and options["min_q_value"] < options["max_q_value"],
                f"agent.options for c51 need an int num_atoms >= 2 and min_q_value < max_q_value; got {options}.")

    def q_network(self, config, observation_spec, action_spec, model_action_spec):
        parts.require_discrete(config, action_spec)
        observation_spec = parts.model_observation_spec(config, observation_spec)
        num_atoms = self.option(config, "num_atoms")
        return KerasCategoricalQNetwork(observation_spec, action_spec,
                                        parts.model_builder(config, observation_spec, action_spec,
                                                            num_atoms=num_atoms), num_atoms=num_atoms)

    def agent_kwargs(self, config, time_step_spec, action_spec, model_action_spec) -> dict:
        return {"categorical_q_network": self.q_network(config, time_step_spec.observation, action_spec,
                                                        model_action_spec),
                "min_q_value": float(self.option(config, "min_q_value")),
                "max_q_value": float(self.option(config, "max_q_value"))}
