"""Branching vs joint actions on RobotArm-v0 as the joints grow: outputs and update time.

For 1 to 6 joints of 5 turns plus a gripper, the same Keras model (`branching_q_model`:
256x256 trunk, 64-unit dueling heads) is trained through `BranchingDqnAgent` (one head
per dimension: 5 * joints + 2 outputs) and through the stock `DdqnAgent` with
`JointActionWrapper` + `JointQNetwork` (2 * 5^joints joint Q-values), one compiled
update on a fixed batch of 64, both timed side by side in one process. Past
`JointQNetwork`'s `max_joint_actions` (10,000) the joint path is refused.

    python benchmarks/robot_arm_paths.py [--steps 200] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
import gymnasium as gym
import matplotlib
import numpy as np
import tensorflow as tf
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import trajectory

from tfa_custom_nets import envs
from tfa_custom_nets.training import (
    AgentConfig,
    EnvConfig,
    NetworkConfig,
    TrainConfig,
    branch_spec,
    machine,
    make_agent,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
BATCH, BINS = 64, 5


def compiled_update(joints: int, joint_actions: bool):
    config = TrainConfig(
        env=EnvConfig(id=envs.ROBOT_ARM_ID, make_kwargs={"joints": joints, "bins": BINS}, joint_actions=joint_actions),
        network=NetworkConfig(model="tfa_custom_nets.models:branching_q_model",
                              kwargs={"hidden_units": [256, 256], "head_units": 64}),
        agent=AgentConfig(kind="ddqn" if joint_actions else "bdq"))
    raw = gym.make(config.env.id, **config.env.make_kwargs)
    env = envs.load(envs.JointActionWrapper(raw) if joint_actions else raw)
    time_step_spec = tensor_spec.from_spec(env.time_step_spec())
    action_spec = tensor_spec.from_spec(env.action_spec())
    agent, _ = make_agent(config, time_step_spec, action_spec, tf.Variable(0, dtype=tf.int64),
                          branch_spec(env, action_spec))
    rng = np.random.default_rng(0)
    obs = time_step_spec.observation.shape[0]
    actions = rng.integers(0, int(np.max(action_spec.maximum)) + 1, (BATCH, 2, *action_spec.shape))
    actions = np.minimum(actions, action_spec.maximum)
    experience = trajectory.Trajectory(
        step_type=tf.ones([BATCH, 2], tf.int32), observation=tf.constant(rng.uniform(-1, 1, (BATCH, 2, obs)),
                                                                        tf.float32),
        action=tf.constant(actions, tf.int64), policy_info=(), next_step_type=tf.ones([BATCH, 2], tf.int32),
        reward=tf.constant(rng.normal(size=(BATCH, 2)), tf.float32), discount=tf.ones([BATCH, 2]))
    sizes = [BINS] * joints + [2]
    outputs = int(np.prod(sizes)) if joint_actions else sum(sizes)  # the Q-values the network materialises
    train = tf.function(lambda: agent.train(experience).loss)
    train()
    return train, outputs


def ms_per_update(train, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        loss = train()
    float(loss)
    return 1000 * (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for joints in range(1, 7):
        cases = {}
        for joint_actions in (False, True):
            try:
                cases[joint_actions] = compiled_update(joints, joint_actions)
            except ValueError as error:  # the joint path refuses spaces past max_joint_actions
                print(f"{joints} joints, joint actions: {str(error).splitlines()[0][:100]}...")
        times = {k: [] for k in cases}
        for _ in range(args.repeats):
            for k, (train, _) in cases.items():
                times[k].append(ms_per_update(train, args.steps))
        row = {"joints": joints, "joint_actions": 2 * BINS ** joints}
        for k, label in ((False, "branching"), (True, "joint")):
            row[f"{label}_outputs"] = cases[k][1] if k in cases else None
            row[f"{label}_ms"] = statistics.median(times[k]) if k in cases else None
        rows.append(row)
        print(json.dumps(row), flush=True)
    result = {"machine": machine(), "batch": BATCH, "bins": BINS, "updates_per_repeat": args.steps,
              "repeats": args.repeats, "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "robot_arm_paths.json").write_text(json.dumps(result, indent=2) + "\n")
    m = result["machine"]
    lines = ["# RobotArm-v0: branching vs joint actions as the joints grow", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, TensorFlow {m['tensorflow']}.", "",
             f"{BINS} turns per joint plus a gripper; one compiled update, batch {BATCH}, the same branch model "
             f"(256x256 trunk, 64-unit dueling heads); median of {args.repeats} repeats of {args.steps} updates.",
             "", "| joints | joint actions | branching outputs | branching ms | joint-path outputs | joint-path ms |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        joint = (f"{r['joint_outputs']} | {r['joint_ms']:.2f}" if r["joint_ms"] is not None
                 else "refused (> max_joint_actions) | -")
        lines.append(f"| {r['joints']} | {r['joint_actions']} | {r['branching_outputs']} | {r['branching_ms']:.2f} | "
                     f"{joint} |")
    (RESULTS / "robot_arm_paths.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([r["joints"] for r in rows], [r["branching_ms"] for r in rows], "o-", label="BranchingDqnAgent")
    joint_rows = [r for r in rows if r["joint_ms"] is not None]
    ax.plot([r["joints"] for r in joint_rows], [r["joint_ms"] for r in joint_rows], "s-",
            label="DdqnAgent + joint actions")
    ax.set_xlabel("arm joints (5 turns each) + gripper")
    ax.set_ylabel("ms per update (batch 64)")
    ax.set_title("Update time as the action dimensions grow")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "robot_arm_paths.png", dpi=100)


if __name__ == "__main__":
    main()
