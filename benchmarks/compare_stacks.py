"""Side by side: the current stack (TF 2.15, .venv) against the modern one (TF 2.21 + tf-keras, .venv-modern).

    make setup && make setup PYTHON=python3.13       # both environments
    .venv/bin/python benchmarks/compare_stacks.py [--pairs 3] [--steps 12000]

Each measurement runs in its own process of one stack's interpreter, alternating which stack goes
first in each pair, so drift in the shared machine's speed hits both:
- update: milliseconds per compiled `DdqnAgent.train` call on a fixed batch of 64 CartPole
  transitions, through `KerasQNetwork` on a 64x64 and a 256x256 MLP (Adam, Huber loss);
- pipeline: env steps per second of training time of the `cartpole` preset (16 envs, in-memory
  replay, one update per env step) for `--steps` env steps, evaluation excluded.
Writes `benchmarks/results/compare_stacks.{md,json}`: every run, the medians and modern/current ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
STACKS = {"current": REPO / ".venv" / "bin" / "python", "modern": REPO / ".venv-modern" / "bin" / "python"}
UPDATES = 1000

CHILD = """
import json, sys, time
import tfa_custom_nets
import numpy as np
import tensorflow as tf
from tf_agents.agents.dqn import dqn_agent
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import trajectory
from tf_agents.utils import common
from tfa_custom_nets import envs
from tfa_custom_nets.models import dense_q_model
from tfa_custom_nets.networks import KerasQNetwork
from tfa_custom_nets.training import load_preset, override, train_eval

steps, updates, run_dir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
tf.config.threading.set_intra_op_parallelism_threads(2)
tf.config.threading.set_inter_op_parallelism_threads(2)
env = envs.load("CartPole-v1", seed=0)
time_step_spec = tensor_spec.from_spec(env.time_step_spec())
action_spec = tensor_spec.from_spec(env.action_spec())
result = {"tensorflow": tf.__version__, "python": sys.version.split()[0]}
for width in (64, 256):
    net = KerasQNetwork(time_step_spec.observation, action_spec,
                        lambda: dense_q_model(time_step_spec.observation, action_spec, hidden_units=[width, width]))
    agent = dqn_agent.DdqnAgent(time_step_spec, action_spec, q_network=net, optimizer=tf.keras.optimizers.Adam(1e-3),
                                td_errors_loss_fn=common.element_wise_huber_loss)
    agent.initialize()
    rng = np.random.default_rng(0)
    def leaf(s):
        shape = [64, 2] + s.shape.as_list()
        values = rng.uniform(0, 1, shape) if s.dtype.is_floating else np.zeros(shape)
        return tf.constant(values.astype(s.dtype.as_numpy_dtype))

    batch = tf.nest.map_structure(leaf, agent.collect_data_spec)
    batch = batch._replace(discount=tf.ones_like(batch.discount))
    train = common.function(agent.train)
    for _ in range(50):
        train(batch)
    start = time.perf_counter()
    for _ in range(updates):
        loss = train(batch).loss
    float(loss)
    result[f"update_ms_{width}x{width}"] = (time.perf_counter() - start) / updates * 1e3
config = override(load_preset("cartpole"), [f"total_env_steps={steps}", f"eval_interval={steps}", "eval_episodes=1",
                                            "progress=False", f"run_dir={run_dir!r}"])
summary = train_eval(config)
result["pipeline_env_steps_per_s"] = summary["env_steps"] / summary["train_seconds"]
print(json.dumps(result))
"""


def run(stack: str, steps: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([str(STACKS[stack]), "-c", CHILD, str(steps), str(UPDATES), f"{tmp}/run"],
                              capture_output=True, text=True, cwd=tmp)
    if done.returncode != 0:
        raise RuntimeError(f"{stack}: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=12_000)
    args = parser.parse_args()
    missing = [f"{stack} ({path.parent.parent.name})" for stack, path in STACKS.items() if not path.exists()]
    if missing:
        sys.exit(f"compare_stacks: no environment for {', '.join(missing)}: make setup; make setup PYTHON=python3.13")
    runs = []
    for pair in range(args.pairs):
        order = list(STACKS) if pair % 2 == 0 else list(STACKS)[::-1]
        for stack in order:
            runs.append({"stack": stack, "pair": pair, **run(stack, args.steps)})
            print(json.dumps(runs[-1]), flush=True)
    keys = [k for k in runs[0] if k.startswith(("update_ms", "pipeline"))]
    medians = {stack: {k: statistics.median(r[k] for r in runs if r["stack"] == stack) for k in keys}
               for stack in STACKS}
    ratios = {k: medians["modern"][k] / medians["current"][k] for k in keys}
    from tfa_custom_nets.training import machine  # after the runs: this process stays out of their way

    versions = {stack: next(f"Python {r['python']}, TensorFlow {r['tensorflow']}" for r in runs if r["stack"] == stack)
                for stack in STACKS}
    result = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(), "pairs": args.pairs,
              "steps": args.steps, "updates": UPDATES, "versions": versions, "runs": runs, "medians": medians,
              "modern_over_current": ratios}
    names = {"update_ms_64x64": "update, 64x64 MLP (ms)", "update_ms_256x256": "update, 256x256 MLP (ms)",
             "pipeline_env_steps_per_s": f"`cartpole` pipeline, {args.steps:,} env steps (env steps/s)"}
    lines = [f"# Current stack against modern stack ({result['date']})", "",
             f"Machine: {result['machine']['cpu']}, {result['machine']['cores']} cores. Current: "
             f"{versions['current']}; modern: {versions['modern']} (tf-keras). {args.pairs} pairs, each measurement "
             "in its own process, alternating which stack runs first (`benchmarks/compare_stacks.py`).", "",
             "| measurement | current (median) | modern (median) | modern / current |", "|---|---|---|---|"]
    lines += [f"| {names[k]} | {medians['current'][k]:.3f} | {medians['modern'][k]:.3f} | {ratios[k]:.2f} |"
              for k in keys]
    lines += ["", "Per-update times: lower is faster; env steps/s: higher is faster.", "",
              "| pair | stack | " + " | ".join(names[k] for k in keys) + " |", "|---" * (len(keys) + 2) + "|"]
    lines += [f"| {r['pair']} | {r['stack']} | " + " | ".join(f"{r[k]:.3f}" for k in keys) + " |" for r in runs]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "compare_stacks.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "compare_stacks.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
