"""`make bench`: pipeline throughput, written to benchmarks/results/.

Trains the `cartpole` preset's network (256x256 MLP) and pipeline at one update
per 4 env steps and batch 64 for a fixed number of env steps, with updates
overlapped with collection
(`async_updates=True`, the default) and in turn (`False`), side by side in one
process run, and reports env steps/s and updates/s of training time (the random
warm-up and graph tracing included, evaluation excluded).

    python benchmarks/run.py [--steps 30000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split

from tfa_custom_nets.training import load_preset, override, train_eval
from tfa_custom_nets.training.run_files import machine

RESULTS = Path(__file__).resolve().parent / "results"


def throughput(steps: int, repeats: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(repeats):
            for async_updates in (True, False):
                config = override(load_preset("cartpole"), [
                    f"total_env_steps={steps}", "update_every=4", "replay.batch_size=64",
                    f"eval_interval={steps}", "eval_episodes=5",
                    f"checkpoint_interval={steps}", "progress=False", f"async_updates={async_updates}",
                    f"run_dir={str(Path(tmp) / f'{repeat}-{async_updates}')!r}"])
                summary = train_eval(config)
                rows.append({"async_updates": async_updates, "repeat": repeat, "env_steps": summary["env_steps"],
                             "updates": summary["updates"], "train_seconds": summary["train_seconds"],
                             "env_steps_per_s": summary["env_steps_per_s"],
                             "updates_per_s": summary["updates_per_s"]})
                print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    rows = throughput(args.steps, args.repeats)
    best = {mode: max(r["env_steps_per_s"] for r in rows if r["async_updates"] == mode) for mode in (True, False)}
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(),
              "setup": "cartpole preset network (256x256 MLP), batch 64, 1 update per 4 env steps, Reverb",
              "throughput": rows, "async_over_serial": round(best[True] / best[False], 2)}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "throughput.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [f"# Pipeline throughput ({result['date']})", "",
             f"Machine: {result['machine']['cpu']}, {result['machine']['cores']} cores, "
             f"Python {result['machine']['python']}, TensorFlow {result['machine']['tensorflow']}.",
             f"Setup: {result['setup']}; {args.steps} env steps per run, {args.repeats} repeats, "
             "training time (warm-up and tracing included, evaluation excluded).", "",
             "| updates | repeat | env steps/s | updates/s |", "|---|---|---|---|"]
    lines += [f"| {'async' if r['async_updates'] else 'serial'} | {r['repeat']} | {r['env_steps_per_s']:.0f} | "
              f"{r['updates_per_s']:.0f} |" for r in rows]
    lines += ["", f"Async over serial (best of each): {result['async_over_serial']}x."]
    (RESULTS / "throughput.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
