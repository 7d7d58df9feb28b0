"""Runs a preset over several seeds and writes its results table.

    python experiments/run_seeds.py cartpole --seeds 1 2 3 4 5 [--jobs 2] [--set key=value ...]

Each seed trains in turn, or `--jobs` at a time in separate processes (`runs/seeds/<preset>/seed<N>`); the table goes to
`experiments/<preset>/results.md` and the summaries to `results.json` (`--results NAME`: NAME.md and
NAME.json, to keep an earlier table), with the
machine they ran on and a uniform-random policy's score on the same evaluation
(`--random-episodes`), the baseline a preset without a threshold is judged by.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import tfa_custom_nets  # noqa: F401  (quiet imports first)
from tfa_custom_nets.training import load_preset, machine, override, train_eval


def random_policy_returns(config, episodes: int):
    """Returns of a uniform-random policy on the preset's env, from the seeds evaluation uses."""
    from tfa_custom_nets.training import EVAL_SEED_OFFSET, UniformRandomPyPolicy, evaluate, make_env

    eval_envs = [make_env(config.env) for _ in range(episodes)]
    policy = UniformRandomPyPolicy(eval_envs[0].time_step_spec(), eval_envs[0].action_spec())
    scores = evaluate(policy, eval_envs, EVAL_SEED_OFFSET)
    for env in eval_envs:
        env.close()
    return scores


def train_seed(preset: str, sets: list[str], seed: int, run_dir: str) -> dict:
    """One seed's run (a module-level function, so a worker process can run it)."""
    return train_eval(override(load_preset(preset), [*sets, f"seed={seed}", f"run_dir={run_dir!r}"]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("preset")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--runs", default="runs/seeds", help="parent of the per-seed run directories")
    parser.add_argument("--random-episodes", type=int, default=100, help="episodes for the random baseline")
    parser.add_argument("--results", default="results",
                        help="name of the table and data files written to experiments/<preset>/ (.md and .json)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="seeds trained at once, each in its own process (wall times then share the machine)")
    parser.add_argument("--from-runs", metavar="STAMP",
                        help="tabulate the finished runs --runs/<preset>/seed<N>-STAMP instead of training")
    args = parser.parse_args()

    stamp = args.from_runs or time.strftime("%Y%m%d-%H%M%S")
    run_dirs = [str(Path(args.runs) / args.preset / f"seed{seed}-{stamp}") for seed in args.seeds]
    jobs = [(args.preset, args.set, seed, run_dir) for seed, run_dir in zip(args.seeds, run_dirs)]
    if args.from_runs:
        summaries = [json.loads((Path(run_dir) / "summary.json").read_text()) for run_dir in run_dirs]
    elif args.jobs > 1:
        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            summaries = list(pool.map(train_seed, *zip(*jobs)))
    else:
        summaries = [train_seed(*job) for job in jobs]
    config = override(load_preset(args.preset), args.set)
    random_scores = random_policy_returns(config, args.random_episodes)

    threshold = summaries[0]["threshold"]
    solved = [s for s in summaries if s["solved_at_step"] is not None]
    cpu = machine()["cpu"]
    lines = [f"# {args.preset}: {len(args.seeds)} seeds ({time.strftime('%Y-%m-%d')})", "",
             f"Machine: {cpu}, {os.cpu_count()} cores; {args.jobs} seed(s) trained at a time. "
             f"Overrides: {args.set or 'none'}.", "",
             "| seed | "
             + ("first eval >= threshold (env steps) | training s to it | " if threshold is not None else "")
             + "best policy's eval mean (at step) | final eval mean ± std | env steps/s | wall s |",
             "|---" * (7 if threshold is not None else 5) + "|"]
    for s in summaries:
        best, best_step = s["best_eval_mean"], s["best_eval_step"]
        reached = (f"{s['solved_at_step'] if s['solved_at_step'] is not None else 'not reached'} | "
                   f"{s['solved_at_seconds'] if s['solved_at_seconds'] is not None else '-'} | ")
        lines.append(f"| {s['seed']} | {reached if threshold is not None else ''}{best:.1f} ({best_step}) | "
                     f"{s['eval_mean']:.1f} ± {s['eval_std']:.1f} | {s['env_steps_per_s']:.0f} | "
                     f"{s['wall_seconds']:.0f} |")
    invalid = [s.get("invalid_actions") for s in summaries]
    if all(counts is not None for counts in invalid):  # envs that publish an action mask
        collect = ", ".join(f"{counts.get('collect', 0):,}" for counts in invalid)
        greedy = ", ".join(f"{counts['greedy_eval']:,}" for counts in invalid)
        lines += ["", "Actions the env's mask rules out, taken over each whole run (seeds in order): by the collect "
                  f"policy (warm-up included) {collect}; by the greedy evaluations {greedy}."]
    episodes = summaries[0]["eval_episodes"]
    lines += ["", f"Each eval: the greedy policy over {episodes} episodes. A uniform-random policy on the same "
              f"evaluation ({len(random_scores)} episodes): {random_scores.mean():.2f} ± {random_scores.std():.2f}."]
    if threshold is not None:
        best_ok = sum(s["best_eval_mean"] >= threshold for s in summaries)
        final_ok = sum(s["eval_mean"] >= threshold for s in summaries)
        lines += ["", f"Best policy (`best_policy/`) at or above {threshold:g}: {best_ok} of {len(summaries)} seeds; "
                  f"final policy at or above it: {final_ok} of {len(summaries)}."]
        lines += ["", f"Reached {threshold:g}: {len(solved)} of {len(summaries)} seeds"
                  + (f", median at {statistics.median(s['solved_at_step'] for s in solved):.0f} env steps, "
                     f"{statistics.median(s['solved_at_seconds'] for s in solved):.1f} s of training."
                     if solved else ".")]
    out = Path(__file__).resolve().parent / args.preset
    out.mkdir(exist_ok=True)  # a preset's first results
    (out / f"{args.results}.md").write_text("\n".join(lines) + "\n")
    random_policy = {"episodes": len(random_scores), "mean": float(random_scores.mean()),
                     "std": float(random_scores.std())}
    results = {"overrides": args.set, "summaries": summaries, "random_policy": random_policy}
    (out / f"{args.results}.json").write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
