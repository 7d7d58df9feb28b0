"""Replay memory per transition for pixel observations: uint8 vs float32, in a Reverb table.

Writes N steps of (84, 84, 4) frames through the same observer the training loop uses
and reads the process's resident memory before and after (the Reverb server is
in-process). Frames are random, so Reverb's chunk compression cannot shrink them:
this is the worst case; real Atari frames compress far better.

    python benchmarks/replay_memory.py [--steps 4000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
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

RESULTS = Path(__file__).resolve().parent / "results"
SHAPE = (84, 84, 4)


def rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def bytes_per_step(dtype, steps: int) -> float:
    spec = trajectory.Trajectory(
        step_type=tf.TensorSpec((), tf.int32), observation=tf.TensorSpec(SHAPE, dtype),
        action=tf.TensorSpec((), tf.int64), policy_info=(), next_step_type=tf.TensorSpec((), tf.int32),
        reward=tf.TensorSpec((), tf.float32), discount=tf.TensorSpec((), tf.float32))
    server = replay.start_server([replay.make_uniform_table(spec, capacity=steps, min_size=1)])
    observer = replay.make_observer(reverb.Client(f"localhost:{server.port}"))
    rng = np.random.default_rng(0)
    gc.collect()
    before = rss_bytes()
    for _ in range(steps):
        frame = rng.integers(0, 256, SHAPE, dtype=np.uint8).astype(dtype.as_numpy_dtype)
        observer(trajectory.Trajectory(np.int32(1), frame, np.int64(0), (), np.int32(1), np.float32(1), np.float32(1)))
    observer.flush()
    gc.collect()
    used = (rss_bytes() - before) / steps
    observer.close()
    server.stop()
    return used


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--dtype", help="measure one dtype in this process and print it (used internally)")
    args = parser.parse_args()
    if args.dtype:
        print(bytes_per_step(tf.as_dtype(args.dtype), args.steps))
        return

    def measured(dtype: str) -> float:
        # A fresh process per dtype: memory freed by one run would hide the other's cost.
        out = subprocess.run([sys.executable, __file__, "--dtype", dtype, "--steps", str(args.steps)],
                             capture_output=True, text=True, check=True).stdout
        return float(out.strip().splitlines()[-1])

    raw = int(np.prod(SHAPE))
    result = {"frame_shape": SHAPE, "steps": args.steps,
              "uint8_bytes_per_step": measured("uint8"),
              "float32_bytes_per_step": measured("float32"),
              "raw_uint8_frame_bytes": raw, "raw_float32_frame_bytes": 4 * raw}
    result["float32_over_uint8"] = round(result["float32_bytes_per_step"] / result["uint8_bytes_per_step"], 2)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "replay_memory.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["# Replay memory for (84, 84, 4) frames", "",
             f"{args.steps} steps of random frames through the training loop's observer into an in-process Reverb "
             "table, one process per dtype; resident memory before and after. Reverb compresses chunks, so a "
             "float32 copy of byte-valued pixels shrinks while random uint8 cannot.", "",
             "| observation dtype | bytes per step | raw frame bytes |", "|---|---|---|",
             f"| uint8 | {result['uint8_bytes_per_step']:.0f} | {raw} |",
             f"| float32 | {result['float32_bytes_per_step']:.0f} | {4 * raw} |", "",
             f"float32 takes {result['float32_over_uint8']}x the memory of uint8."]
    (RESULTS / "replay_memory.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
