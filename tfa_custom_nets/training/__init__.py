"""Training: config, the train/eval loop, presets and what a run writes."""

from tfa_custom_nets.training.config import (
    AgentConfig,
    EnvConfig,
    NetworkConfig,
    ReplayConfig,
    TrainConfig,
    from_dict,
    override,
)
from tfa_custom_nets.training.presets import list_presets, load_preset
from tfa_custom_nets.training.train_eval import train_eval

__all__ = ["AgentConfig", "EnvConfig", "NetworkConfig", "ReplayConfig", "TrainConfig",
           "from_dict", "list_presets", "load_preset", "override", "train_eval"]
