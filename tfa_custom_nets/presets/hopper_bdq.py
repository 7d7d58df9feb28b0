"""hopper_bdq: MuJoCo Hopper-v5 with each of the 3 torques in 33 bins, on BranchingDqnAgent.

    python -m tfa_custom_nets.presets.hopper_bdq --seed 1    # or: tfa-nets train hopper_bdq

The BDQ paper's setting for its MuJoCo tasks: 33 bins per action dimension
(MultiDiscrete([33, 33, 33]), 35,937 joint actions, 99 branch outputs), a 512-256
shared trunk and 128-unit dueling heads. Hopper episodes run up to 1000 steps and a
full run needs millions of steps; deviations from the paper are named in the comments.
"""

import sys

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
from tfa_custom_nets.training import AgentConfig, EnvConfig, NetworkConfig, ReplayConfig, TrainConfig

CONFIG = TrainConfig(
    name="hopper_bdq",
    env=EnvConfig(id="Hopper-v5", make="tfa_custom_nets.presets.reacher_bdq:make_env", make_kwargs={"bins": 33}),
    network=NetworkConfig(model="tfa_custom_nets.models:branching_q_model",
                          kwargs={"hidden_units": [512, 256], "head_units": 128, "dueling": True}),  # as in the paper
    agent=AgentConfig(
        kind="bdq",
        learning_rate=1e-4,           # as in the paper (Adam)
        gamma=0.99,
        loss="mse",
        gradient_clipping=10.0,
        target_update_period=1_000,   # hard copy every 1000 updates, as in the paper
        target_update_tau=1.0,
        epsilon_start=1.0,
        epsilon_end=0.05,             # paper: Gaussian noise on the discrete action
        epsilon_decay_steps=200_000,
    ),
    replay=ReplayConfig(capacity=1_000_000, batch_size=64, learning_starts=10_000),  # paper: 1M, 64
    total_env_steps=1_000_000,        # paper: 2M+
    update_every=1,
    eval_interval=25_000,
    eval_episodes=10,
    checkpoint_interval=50_000,
)

if __name__ == "__main__":
    from tfa_custom_nets import cli

    sys.exit(cli.main(["train", "hopper_bdq", *sys.argv[1:]]))
