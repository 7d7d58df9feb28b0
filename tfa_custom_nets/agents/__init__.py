"""Agents: `BranchingDqnAgent` (BDQ), its per-branch policies, and ez-greedy exploration."""

from tfa_custom_nets.agents.branching_dqn_agent import BranchingDqnAgent
from tfa_custom_nets.agents.branching_policies import BranchingEpsilonGreedyPolicy, BranchingQPolicy
from tfa_custom_nets.agents.ez_greedy import EzGreedyPyPolicy

__all__ = ["BranchingDqnAgent", "BranchingEpsilonGreedyPolicy", "BranchingQPolicy", "EzGreedyPyPolicy"]
