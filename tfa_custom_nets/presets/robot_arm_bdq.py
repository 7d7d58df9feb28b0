"""robot_arm_bdq: RobotArm-v0 (2 joints x 5 turns + a gripper) with a branching Keras model on BranchingDqnAgent.

    python -m tfa_custom_nets.presets.robot_arm_bdq --seed 1   # or: tfa-nets train robot_arm_bdq

The action is MultiDiscrete([5, 5, 2]): base rotation, elbow, gripper. The model is
`tfa_custom_nets.models:branching_q_model`: a shared dense trunk, one dueling head per
action dimension (BDQ, Tavakoli et al. 2018). Deviations from the paper are named in
the comments. `robot_arm_joint` learns the same env through the stock DqnAgent.
"""

import sys

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
from tfa_custom_nets.training import AgentConfig, EnvConfig, NetworkConfig, ReplayConfig, TrainConfig

CONFIG = TrainConfig(
    name="robot_arm_bdq",
    env=EnvConfig(id="tfa_custom_nets/RobotArm-v0", make_kwargs={"joints": 2, "bins": 5}),  # threshold 22 (spec)
    network=NetworkConfig(model="tfa_custom_nets.models:branching_q_model",
                          kwargs={"hidden_units": [256, 256], "head_units": 64,  # paper: 512-256, 128
                                  "dueling": True}),
    agent=AgentConfig(
        kind="bdq",                   # double-Q, TD target = mean over branches, as in the paper
        learning_rate=5e-4,           # Adam; paper: 1e-4
        gamma=0.99,
        loss="mse",                   # as in the paper
        gradient_clipping=10.0,
        target_update_period=1,       # every update ...
        target_update_tau=0.005,      # ... a Polyak step; paper: hard copy every 1000 updates
        epsilon_start=1.0,
        epsilon_end=0.05,             # paper: Gaussian exploration noise
        epsilon_decay_steps=20_000,
    ),
    replay=ReplayConfig(capacity=100_000, batch_size=64, learning_starts=2_000),
    total_env_steps=100_000,
    update_every=1,
    eval_interval=5_000,
    eval_episodes=20,
    checkpoint_interval=20_000,
)

if __name__ == "__main__":
    from tfa_custom_nets import cli

    sys.exit(cli.main(["train", "robot_arm_bdq", *sys.argv[1:]]))
