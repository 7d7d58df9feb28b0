"""Agents: `BranchingDqnAgent` (BDQ) and its per-branch policies."""

from tfa_custom_nets.agents.branching_dqn_agent import BranchingDqnAgent
from tfa_custom_nets.agents.branching_policies import BranchingEpsilonGreedyPolicy, BranchingQPolicy

__all__ = ["BranchingDqnAgent", "BranchingEpsilonGreedyPolicy", "BranchingQPolicy"]
