"""robot_arm_masked: RobotArm-v0 with joint limits, the moves past a limit masked, on BranchingDqnAgent.

    python experiments/robot_arm_masked/experiment.py --seed 1   # or: tfa-nets train robot_arm_masked
    tfa-nets train robot_arm_masked --seed 1 --set env.action_mask=None   # the same arm, mask unused

`robot_arm_bdq`'s task and settings, but each joint turns within [-2.8, 2.8] rad instead of all
the way round (every object and target position stays reachable). The env publishes in
`info["action_mask"]` which of each joint's 5 turns stay within its limits (turning 0 always
does; the gripper's two choices are always valid); `env.action_mask="info"` hands that mask to
`BranchingDqnAgent`, which then never takes, explores or bootstraps from a turn past a limit.
Without the mask the agent may choose such a turn: the joint stops at the limit. The budget is
`robot_arm_bdq`'s, 100k env steps (one tuning run on seed 11 reached 19.0 at 50k and 17.3 at 55k:
the limits make the task slower to learn than without them).
"""

import sys

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
from tfa_custom_nets.training import AgentConfig, EnvConfig, NetworkConfig, ReplayConfig, TrainConfig

CONFIG = TrainConfig(
    name="robot_arm_masked",
    env=EnvConfig(id="tfa_custom_nets/RobotArm-v0", make_kwargs={"joints": 2, "bins": 5, "joint_limit": 2.8},
                  action_mask="info"),  # threshold 22 (spec)
    network=NetworkConfig(model="tfa_custom_nets.models:branching_q_model",
                          kwargs={"hidden_units": [256, 256], "head_units": 64, "dueling": True}),
    agent=AgentConfig(                # robot_arm_bdq's settings
        kind="bdq",
        learning_rate=5e-4,
        gamma=0.99,
        loss="mse",
        gradient_clipping=10.0,
        target_update_period=1,
        target_update_tau=0.005,
        epsilon_start=1.0,
        epsilon_end=0.05,
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

    sys.exit(cli.main(["train", __file__, *sys.argv[1:]]))
