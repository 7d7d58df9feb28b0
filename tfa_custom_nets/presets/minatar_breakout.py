"""minatar_breakout: MinAtar Breakout (10x10 bool boards) with a small conv Q-model on DdqnAgent.

    python -m tfa_custom_nets.presets.minatar_breakout --seed 1   # or: tfa-nets train minatar_breakout

The model is `tfa_custom_nets.models:minatar_q_model`: Conv 16x3x3 and Dense 128
(Young & Tian 2019) on the bool board, cast to float inside the network, so the
replay stores the boards as bool (1 byte per cell). Deviations from the MinAtar
paper's DQN are named in the comments.
"""

import sys

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
import gymnasium as gym

from tfa_custom_nets.training import AgentConfig, EnvConfig, NetworkConfig, ReplayConfig, TrainConfig


def make_env(env_id, **make_kwargs):
    """MinAtar registers its gymnasium ids only on request; sticky actions (p=0.1) stay on."""
    if env_id not in gym.registry:  # registering twice warns
        from minatar.gym import register_envs

        register_envs()
    return gym.make(env_id, **make_kwargs)


CONFIG = TrainConfig(
    name="minatar_breakout",
    env=EnvConfig(
        id="MinAtar/Breakout-v1",              # minimal action set: 3 actions
        make="tfa_custom_nets.presets.minatar_breakout:make_env",
        make_kwargs={"max_episode_steps": 10_000},  # MinAtar has no time limit; this bounds a stuck eval
    ),
    network=NetworkConfig(model="tfa_custom_nets.models:minatar_q_model", kwargs={}),
    agent=AgentConfig(
        kind="ddqn",                  # paper: DQN
        learning_rate=2.5e-4,         # Adam; paper: RMSProp 2.5e-4
        gamma=0.99,
        loss="huber",
        gradient_clipping=10.0,
        target_update_period=1_000,   # hard copy every 1000 updates, as in the paper
        target_update_tau=1.0,
        epsilon_start=1.0,
        epsilon_end=0.05,             # paper: 0.1
        epsilon_decay_steps=100_000,  # as in the paper
    ),
    replay=ReplayConfig(capacity=100_000, batch_size=32, learning_starts=5_000),  # as in the paper
    total_env_steps=300_000,          # paper: 5M frames
    update_every=1,                   # as in the paper
    eval_interval=25_000,
    eval_episodes=20,
    checkpoint_interval=50_000,
)

if __name__ == "__main__":
    from tfa_custom_nets import cli

    sys.exit(cli.main(["train", "minatar_breakout", *sys.argv[1:]]))
