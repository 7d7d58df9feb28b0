"""Gymnasium environments as TF-Agents `PyEnvironment`s."""

from tfa_custom_nets.envs.gymnasium_env import GymnasiumEnvironment, load, spec_from_space

__all__ = ["GymnasiumEnvironment", "load", "spec_from_space"]
