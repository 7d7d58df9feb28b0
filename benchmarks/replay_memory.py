"""Replay memory per transition for pixel observations: uint8 vs float32, in a Reverb table.

Writes N steps of (4, 84, 84) frame stacks through the same observer the training loop
uses and reads the process's resident memory before and after (the Reverb server is
in-process). Two sources: random frames, which Reverb's chunk compression cannot
shrink (the worst case), and real Pong frame stacks from the `pong` preset's env
under a random policy.

    python benchmarks/replay_memory.py [--steps 4000]
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
from pathlib import Path

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
import numpy as np
import reverb
import tensorflow as tf
from tf_agents.trajectories import trajectory

from tfa_custom_nets import replay
from tfa_custom_nets.training import rss_mb

RESULTS = Path(__file__).resolve().parent / "results"
SHAPE = (4, 84, 84)
SOURCES = ("random", "pong")
DTYPES = ("uint8", "float32")


def frames(source: str, steps: int) -> np.ndarray:
    """`steps` uint8 frame stacks: uniform noise, or Pong under uniformly random actions."""
    if source == "random":
        return np.random.default_rng(0).integers(0, 256, (steps, *SHAPE), dtype=np.uint8)
    from tfa_custom_nets.training import load_preset, make_env

    env = make_env(load_preset("pong").env, seed=0)
    rng = np.random.default_rng(0)
    out, time_step = [], env.reset()
    for _ in range(steps):
        out.append(time_step.observation)
        time_step = env.step(np.int64(rng.integers(int(env.action_spec().maximum) + 1)))
    env.close()
    return np.stack(out)


def bytes_per_step(source: str, dtype, steps: int) -> float:
    spec = trajectory.Trajectory(
        step_type=tf.TensorSpec((), tf.int32), observation=tf.TensorSpec(SHAPE, dtype),
        action=tf.TensorSpec((), tf.int64), policy_info=(), next_step_type=tf.TensorSpec((), tf.int32),
        reward=tf.TensorSpec((), tf.float32), discount=tf.TensorSpec((), tf.float32))
    stacks = frames(source, steps)
    server = replay.start_server([replay.make_uniform_table(spec, capacity=steps, min_size=1)])
    observer = replay.make_observer(reverb.Client(f"localhost:{server.port}"), spec)
    gc.collect()
    before = rss_mb()
    for stack in stacks:
        observation = stack.astype(dtype.as_numpy_dtype)
        observer(trajectory.Trajectory(np.int32(1), observation, np.int64(0), (), np.int32(1), np.float32(1),
                                       np.float32(1)))
    observer.flush()
    gc.collect()
    used = (rss_mb() - before) * 2**20 / steps
    observer.close()
    server.stop()
    return used


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--one", nargs=2, metavar=("SOURCE", "DTYPE"), help="measure one case here (internal)")
    args = parser.parse_args()
    if args.one:
        print(bytes_per_step(args.one[0], tf.as_dtype(args.one[1]), args.steps))
        return

    def measured(source: str, dtype: str) -> float:
        # A fresh process per case: memory freed by one run would hide the next one's cost.
        out = subprocess.run([sys.executable, __file__, "--one", source, dtype, "--steps", str(args.steps)],
                             capture_output=True, text=True, check=True).stdout
        return float(out.strip().splitlines()[-1])

    raw = int(np.prod(SHAPE))
    result = {"frame_shape": SHAPE, "steps": args.steps, "raw_uint8_frame_bytes": raw,
              "raw_float32_frame_bytes": 4 * raw,
              "bytes_per_step": {s: {d: measured(s, d) for d in DTYPES} for s in SOURCES}}
    ratios = {s: round(v["float32"] / v["uint8"], 2) for s, v in result["bytes_per_step"].items()}
    result["float32_over_uint8"] = ratios
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "replay_memory.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [f"# Replay memory for {SHAPE} frame stacks", "",
             f"{args.steps} steps through the training loop's observer into an in-process Reverb table, one process "
             "per case; resident memory before and after. Random frames cannot be compressed; Pong frames (the "
             "`pong` preset's env, random actions) are mostly background, so Reverb's chunk compression shrinks "
             "them a lot.", "",
             "| frames | observation dtype | bytes per step | raw frame bytes |", "|---|---|---|---|"]
    for source in SOURCES:
        for dtype, size in zip(DTYPES, (raw, 4 * raw)):
            lines.append(f"| {source} | {dtype} | {result['bytes_per_step'][source][dtype]:.0f} | {size} |")
    lines += ["", "float32 over uint8: " + ", ".join(f"{ratios[s]}x ({s} frames)" for s in SOURCES) + "."]
    (RESULTS / "replay_memory.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
