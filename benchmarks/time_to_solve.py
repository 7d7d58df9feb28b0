"""`make bench`: time to solve CartPole, 5 seeds one after another (the `cartpole` preset by default).

For each seed: the env steps and training seconds (evaluation excluded, warm-up and graph
tracing included) until the greedy evaluation first reaches the env's threshold (475 over
the preset's evaluation episodes), and the final evaluation at the end of the run. Runs go
one at a time so each has the machine to itself. Written to
benchmarks/results/time_to_solve_<preset>.{json,md}.

    python benchmarks/time_to_solve.py [--preset cartpole] [--seeds 1 2 3 4 5] [--set key=value ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
from tfa_custom_nets.training import load_preset, machine, override, train_eval

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="cartpole")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            config = override(load_preset(args.preset), [f"seed={seed}", "progress=False", *args.set,
                                                         f"run_dir={str(Path(tmp) / f'seed{seed}')!r}"])
            summary = train_eval(config)
            rows.append({key: summary[key] for key in ("seed", "solved_at_step", "solved_at_seconds", "eval_mean",
                                                       "eval_std", "env_steps", "train_seconds", "env_steps_per_s",
                                                       "threshold")})
            print(json.dumps(rows[-1]), flush=True)
    threshold = rows[0]["threshold"]
    solved = [r for r in rows if r["solved_at_step"] is not None]
    held = [r for r in rows if r["eval_mean"] >= threshold]
    median_seconds = statistics.median(r["solved_at_seconds"] for r in solved) if solved else None
    median_steps = statistics.median(r["solved_at_step"] for r in solved) if solved else None
    result = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(), "overrides": args.set,
              "config": config.to_dict(), "runs": rows, "solved": len(solved), "final_at_threshold": len(held),
              "median_seconds_to_solve": median_seconds, "median_steps_to_solve": median_steps}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"time_to_solve_{args.preset}.json").write_text(json.dumps(result, indent=1) + "\n")
    m = result["machine"]
    lines = [f"# Time to solve CartPole-v1: `{args.preset}` preset, {len(rows)} seeds ({result['date']})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, TensorFlow {m['tensorflow']}. "
             f"Overrides: {args.set or 'none'}. {config.num_envs} envs per batch, {config.replay.backend} replay, "
             f"one update per {config.update_every} env step(s), batch {config.replay.batch_size}, "
             f"{config.total_env_steps:,} env steps; greedy evaluation over {config.eval_episodes} episodes every "
             f"{config.eval_interval:,} steps. Seconds are training time (warm-up and tracing included, "
             "evaluation excluded); seeds run one at a time.", "",
             "| seed | first eval >= 475 (env steps) | training s to it | final eval mean ± std | env steps/s |",
             "|---|---|---|---|---|"]
    lines += [f"| {r['seed']} | {r['solved_at_step'] or 'never'} | {r['solved_at_seconds'] or '-'} | "
              f"{r['eval_mean']:.1f} ± {r['eval_std']:.1f} | {r['env_steps_per_s']:.0f} |" for r in rows]
    lines += ["", f"Reached {threshold:g}: {len(solved)} of {len(rows)} seeds"
              + (f", median {median_steps:,.0f} env steps and **{median_seconds:.1f} s** of training" if solved else "")
              + f". Final evaluation at or above {threshold:g}: {len(held)} of {len(rows)}."]
    (RESULTS / f"time_to_solve_{args.preset}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
