"""Agent kinds as plug-ins: `agent.kind` names one module here, and the loop asks that module's `AgentKind`.

    base.py     AgentKind: the protocol the loop calls, and the checks most kinds share
    parts.py    what several kinds build alike: Q-networks around a Keras model, actors, critics, Adam
    dqn.py      dqn (DqnAgent) and ddqn (DdqnAgent)
    bdq.py      bdq (BranchingDqnAgent: one Q-head per MultiDiscrete dimension)
    c51.py      c51 (CategoricalDqnAgent around KerasCategoricalQNetwork)
    sac.py      sac (SacAgent)
    ppo.py      ppo (PPOClipAgent, on-policy)
    td3.py      td3 (Td3Agent around KerasActorNetwork and KerasCriticNetwork)
    ddpg.py     ddpg (DdpgAgent around the same networks)

A new kind is a new module with one `AgentKind` subclass and one line in `KINDS` (`"name": "module:Class"` for a
module here, or a dotted path, `"my_package.my_kind:MyKind"`, for one's own); `tfa-nets kinds` lists them.
Modules load when their kind is first asked for.
"""

from __future__ import annotations

import importlib

from tfa_custom_nets.training.kinds.base import AgentKind

KINDS = {
    "dqn": "dqn:DQN",
    "ddqn": "dqn:DDQN",
    "bdq": "bdq:BDQ",
    "sac": "sac:SAC",
    "ppo": "ppo:PPO",
    "c51": "c51:C51",
    "td3": "td3:TD3",
    "ddpg": "ddpg:DDPG",
}

_LOADED: dict[str, AgentKind] = {}


def agent_kind(name: str) -> AgentKind:
    """The `AgentKind` registered as `name` (a ValueError naming the known ones otherwise)."""
    kind = _LOADED.get(name)
    if kind is None:
        if name not in KINDS:
            raise ValueError(f"agent.kind must be one of {tuple(KINDS)}, got {name!r}.")
        module, _, cls = KINDS[name].partition(":")  # a module here, or a dotted path of one's own
        kind = _LOADED[name] = getattr(importlib.import_module(module if "." in module else f"{__name__}.{module}"),
                                       cls)()
    return kind


__all__ = ["KINDS", "AgentKind", "agent_kind"]
