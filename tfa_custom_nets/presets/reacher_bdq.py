"""reacher_bdq: MuJoCo Reacher-v5 with each torque discretized into 11 bins, on BranchingDqnAgent.

    python -m tfa_custom_nets.presets.reacher_bdq --seed 1   # or: tfa-nets train reacher_bdq

`DiscretizeActions` turns the Box(-1, 1, (2,)) torque into MultiDiscrete([11, 11])
(-1, -0.8, ..., 1: the bounds and zero included); the model is
`tfa_custom_nets.models:branching_q_model`, one dueling head per joint (BDQ,
Tavakoli et al. 2018). Deviations from the paper are named in the comments.
"""

import sys

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
import gymnasium as gym
import numpy as np

from tfa_custom_nets.envs import DiscretizeActions
from tfa_custom_nets.training import AgentConfig, EnvConfig, NetworkConfig, ReplayConfig, TrainConfig


def make_env(env_id, bins=11, **make_kwargs):
    """The MuJoCo env with its Box action as `bins` evenly spaced values per dimension.

    MuJoCo observes float64; float32 halves the replay and is what the model computes in.
    """
    env = gym.make(env_id, **make_kwargs)
    space = env.observation_space  # unbounded float64
    float32_space = gym.spaces.Box(-np.inf, np.inf, space.shape, np.float32)
    env = gym.wrappers.TransformObservation(env, lambda observation: observation.astype(np.float32), float32_space)
    return DiscretizeActions(env, bins=bins)


CONFIG = TrainConfig(
    name="reacher_bdq",
    env=EnvConfig(id="Reacher-v5", make="tfa_custom_nets.presets.reacher_bdq:make_env", make_kwargs={"bins": 11}),
    network=NetworkConfig(model="tfa_custom_nets.models:branching_q_model",
                          kwargs={"hidden_units": [256, 256], "head_units": 64, "dueling": True}),
    agent=AgentConfig(
        kind="bdq",                   # double-Q, mean-aggregated target, as in the paper
        learning_rate=5e-4,           # Adam; paper: 1e-4
        gamma=0.99,
        loss="mse",
        gradient_clipping=10.0,
        target_update_period=1,       # every update ...
        target_update_tau=0.005,      # ... a Polyak step; paper: hard copy every 1000 updates
        epsilon_start=1.0,
        epsilon_end=0.05,             # paper: Gaussian noise on the discrete action
        epsilon_decay_steps=50_000,
    ),
    replay=ReplayConfig(capacity=200_000, batch_size=64, learning_starts=5_000),
    total_env_steps=200_000,
    update_every=2,
    eval_interval=10_000,
    eval_episodes=20,
    checkpoint_interval=50_000,
)

if __name__ == "__main__":
    from tfa_custom_nets import cli

    sys.exit(cli.main(["train", "reacher_bdq", *sys.argv[1:]]))
