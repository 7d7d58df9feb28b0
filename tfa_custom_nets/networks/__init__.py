"""TF-Agents networks that wrap Keras models (Q-networks; actors and values). Each file stands alone: copy one."""

from tfa_custom_nets.networks.branching_q_network import BranchingQNetwork
from tfa_custom_nets.networks.joint_q_network import JointQNetwork
from tfa_custom_nets.networks.keras_actor_distribution_network import KerasActorDistributionNetwork
from tfa_custom_nets.networks.keras_actor_network import KerasActorNetwork
from tfa_custom_nets.networks.keras_categorical_q_network import KerasCategoricalQNetwork
from tfa_custom_nets.networks.keras_critic_network import KerasCriticNetwork
from tfa_custom_nets.networks.keras_q_network import KerasQNetwork
from tfa_custom_nets.networks.keras_value_network import KerasValueNetwork

__all__ = ["BranchingQNetwork", "JointQNetwork", "KerasActorDistributionNetwork", "KerasActorNetwork",
           "KerasCategoricalQNetwork", "KerasCriticNetwork", "KerasQNetwork", "KerasValueNetwork"]
