"""robot_arm_joint: the robot_arm_bdq experiment through the stock DdqnAgent, with joint actions.

    python -m tfa_custom_nets.presets.robot_arm_joint --seed 1   # or: tfa-nets train robot_arm_joint

Everything is `robot_arm_bdq`'s (the same branch model, replay, schedule) except the
action path: `JointActionWrapper` turns MultiDiscrete([5, 5, 2]) into Discrete(50), and
`JointQNetwork` scores each of the 50 combinations as the sum of its branches' values,
so TF-Agents' own DdqnAgent learns it with no new agent.
"""

import dataclasses
import sys

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
from tfa_custom_nets.training import load_preset

BDQ = load_preset("robot_arm_bdq")
CONFIG = dataclasses.replace(
    BDQ, name="robot_arm_joint",
    env=dataclasses.replace(BDQ.env, joint_actions=True),
    agent=dataclasses.replace(BDQ.agent, kind="ddqn"),  # double-Q, as bdq
)

if __name__ == "__main__":
    from tfa_custom_nets import cli

    sys.exit(cli.main(["train", "robot_arm_joint", *sys.argv[1:]]))
