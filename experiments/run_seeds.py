"""Runs a preset over several seeds and writes its results table.

    python experiments/run_seeds.py cartpole --seeds 1 2 3 4 5 [--set key=value ...]

Each seed trains in turn (`runs/seeds/<preset>/seed<N>`); the table goes to
`experiments/<preset>/results.md` and the summaries to `results.json`, with the
machine they ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import tfa_custom_nets  # noqa: F401  (quiet imports first)
from tfa_custom_nets.training import load_preset, override, train_eval


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("preset")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--runs", default="runs/seeds", help="parent of the per-seed run directories")
    args = parser.parse_args()

    summaries = []
    for seed in args.seeds:
        run_dir = Path(args.runs) / args.preset / f"seed{seed}-{time.strftime('%Y%m%d-%H%M%S')}"
        config = override(load_preset(args.preset), [*args.set, f"seed={seed}", f"run_dir={str(run_dir)!r}"])
        summaries.append(train_eval(config))

    threshold = summaries[0]["threshold"]
    solved = [s for s in summaries if s["solved_at_step"] is not None]
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "") if Path("/proc/cpuinfo").exists() else platform.processor()
    lines = [f"# {args.preset}: {len(args.seeds)} seeds ({time.strftime('%Y-%m-%d')})", "",
             f"Machine: {cpu}, {os.cpu_count()} cores. Overrides: {args.set or 'none'}.", "",
             "| seed | first eval >= threshold (env steps) | training s to it | final eval mean ± std | "
             "env steps/s | wall s |", "|---|---|---|---|---|---|"]
    for s in summaries:
        lines.append(f"| {s['seed']} | {s['solved_at_step'] if s['solved_at_step'] is not None else 'not reached'} | "
                     f"{s['solved_at_seconds'] if s['solved_at_seconds'] is not None else '-'} | "
                     f"{s['eval_mean']:.1f} ± {s['eval_std']:.1f} | {s['env_steps_per_s']:.0f} | "
                     f"{s['wall_seconds']:.0f} |")
    lines += ["", f"Reached {threshold:g} (greedy, {summaries[0]['eval_episodes']} episodes): "
              f"{len(solved)} of {len(summaries)} seeds"
              + (f", median at {statistics.median(s['solved_at_step'] for s in solved):.0f} env steps, "
                 f"{statistics.median(s['solved_at_seconds'] for s in solved):.1f} s of training." if solved else ".")]
    out = Path(__file__).resolve().parent / args.preset
    (out / "results.md").write_text("\n".join(lines) + "\n")
    (out / "results.json").write_text(json.dumps({"overrides": args.set, "summaries": summaries}, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
