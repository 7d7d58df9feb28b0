"""Update time of BranchingDqnAgent as the action branches grow, on one trunk.

One compiled `agent.train` step on a fixed random batch (batch 64, observation of 17
floats, the BDQ paper's 512-256 trunk with dueling heads), timed for 1 to 8 branches of
33 bins side by side in one process, interleaved over repeats, for heads with a
128-unit hidden layer (the paper's), a 64-unit one, and linear heads: each head's
hidden layer is as large as a trunk layer's share, so it sets how the cost grows with
branches. Beside each, the output size a joint-action network would need (33^D).

    python benchmarks/branching_update.py [--steps 300] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
import numpy as np
import tensorflow as tf
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory

from tfa_custom_nets.agents import BranchingDqnAgent
from tfa_custom_nets.models import branching_q_model
from tfa_custom_nets.networks import BranchingQNetwork
from tfa_custom_nets.training import machine

RESULTS = Path(__file__).resolve().parent / "results"
OBS = tensor_spec.TensorSpec((17,), tf.float32, name="observation")
BATCH, BINS = 64, 33


HEAD_UNITS = (128, 64, 0)
BRANCHES = tuple(range(1, 9))


def compiled_step(branches: int, head_units: int):
    actions = tensor_spec.BoundedTensorSpec((branches,), tf.int64, 0, BINS - 1, name="action")
    net = BranchingQNetwork(OBS, actions, lambda: branching_q_model(OBS, actions, head_units=head_units))
    agent = BranchingDqnAgent(ts.time_step_spec(OBS), actions, net, tf.keras.optimizers.Adam(1e-4))
    agent.initialize()
    rng = np.random.default_rng(0)
    experience = trajectory.Trajectory(
        step_type=tf.ones([BATCH, 2], tf.int32), observation=tf.constant(rng.normal(size=(BATCH, 2, 17)), tf.float32),
        action=tf.constant(rng.integers(0, BINS, (BATCH, 2, branches))), policy_info=(),
        next_step_type=tf.ones([BATCH, 2], tf.int32), reward=tf.constant(rng.normal(size=(BATCH, 2)), tf.float32),
        discount=tf.ones([BATCH, 2]))
    train = tf.function(lambda: agent.train(experience).loss)
    train()  # trace
    return train


def seconds_per_update(train, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        loss = train()
    float(loss)
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cases = [(units, branches) for units in HEAD_UNITS for branches in BRANCHES]
    steps = {case: compiled_step(case[1], case[0]) for case in cases}
    times = {case: [] for case in cases}
    for _ in range(args.repeats):
        for case, train in steps.items():
            times[case].append(seconds_per_update(train, args.steps))
    median = {case: statistics.median(t) for case, t in times.items()}
    result = {"machine": machine(), "batch": BATCH, "bins": BINS, "updates_per_repeat": args.steps,
              "seconds_per_update": {f"{u}-units/{b}-branches": t for (u, b), t in times.items()},
              "over_one_branch": {f"{u}-units/{b}-branches": median[(u, b)] / median[(u, 1)] for u, b in cases}}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "branching_update.json").write_text(json.dumps(result, indent=2) + "\n")
    m = result["machine"]
    lines = [f"# BranchingDqnAgent update time: 1 to {BRANCHES[-1]} branches x {BINS} bins", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, TensorFlow {m['tensorflow']}.", "",
             f"One compiled train step (double-Q, mean target), batch {BATCH}, 17-float observations, 512-256 trunk, "
             f"dueling heads; {args.repeats} interleaved repeats of {args.steps} updates per case; median ms per "
             "update, and its ratio to one branch.", "",
             "| branches | branch outputs | joint-action outputs | "
             + " | ".join(f"{u or 'linear'}-unit heads" if u else "linear heads" for u in HEAD_UNITS) + " |",
             "|---|---|---|" + "---|" * len(HEAD_UNITS)]
    for branches in BRANCHES:
        cells = [f"{1000 * median[(u, branches)]:.2f} ({median[(u, branches)] / median[(u, 1)]:.2f}x)"
                 for u in HEAD_UNITS]
        lines.append(f"| {branches} | {branches * BINS} | {BINS ** branches:,} | " + " | ".join(cells) + " |")
    (RESULTS / "branching_update.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
