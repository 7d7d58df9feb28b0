"""robot_arm_masked: RobotArm-v0 with joint limits, the moves past a limit masked, on BranchingDqnAgent.

    python -m tfa_custom_nets.presets.robot_arm_masked --seed 1   # or: tfa-nets train robot_arm_masked
    tfa-nets train robot_arm_masked --seed 1 --set env.action_mask=None   # the same arm, mask unused

`robot_arm_bdq`'s task, settings and budget, but each joint turns within [-2.8, 2.8] rad instead of all
the way round (every object and target position stays reachable). The env publishes in
`info["action_mask"]` which of each joint's 5 turns stay within its limits (turning 0 always
does; the gripper's two choices are always valid); `env.action_mask="info"` hands that mask to
`BranchingDqnAgent`, which then never takes, explores or bootstraps from a turn past a limit.
Without the mask the agent may choose such a turn: the joint stops at the limit.
"""

import dataclasses
import sys

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
from tfa_custom_nets.training import load_preset

ARM = load_preset("robot_arm_bdq")
CONFIG = dataclasses.replace(
    ARM, name="robot_arm_masked",
    env=dataclasses.replace(ARM.env, make_kwargs={**ARM.env.make_kwargs, "joint_limit": 2.8},  # robot_arm_bdq: none
                            action_mask="info"),                                             # robot_arm_bdq: no mask
)

if __name__ == "__main__":
    from tfa_custom_nets import cli

    sys.exit(cli.main(["train", "robot_arm_masked", *sys.argv[1:]]))
