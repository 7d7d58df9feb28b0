"""Target-network update study: tau x period, several seeds, one table and one plot.

    python experiments/cartpole_slow_target/study.py [--preset cartpole_reverb] [--seeds 1-3] [--steps 30000] [--jobs 2]

Every cell is the preset (`cartpole_reverb` by default, the settings the published table used)
with `agent.target_update_tau` and `agent.target_update_period` set; tau 1 is a hard copy every
`period` updates, tau < 1 a Polyak step every `period` updates. Each run is
`tfa_custom_nets.training.train_seed`; the threshold, evaluation episodes and interval are the
preset's. Writes `study.md`, `study.json` and `study.png` here.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import multiprocessing
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import tfa_custom_nets  # noqa: F401  (quiet imports first)
from tfa_custom_nets.training import load_preset, machine, parse_seeds, train_seed

HERE = Path(__file__).resolve().parent
TAUS = (1.0, 0.01)
PERIODS = (1, 100, 1000)


def run_cell(preset: str, tau: float, period: int, seed: int, steps: int, runs: str) -> dict:
    run_dir = Path(runs) / f"tau{tau}-period{period}-seed{seed}"
    summary = train_seed(preset, [f"agent.target_update_tau={tau}", f"agent.target_update_period={period}",
                                  f"total_env_steps={steps}", "progress=False"], seed, str(run_dir))
    with open(run_dir / "metrics.csv") as f:
        curve = [(int(r["env_steps"]), float(r["eval_mean"])) for r in csv.DictReader(f)]
    return {"tau": tau, "period": period, "seed": seed, "final": summary["eval_mean"],
            "threshold": summary["threshold"], "solved_at_step": summary["solved_at_step"], "curve": curve}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="cartpole_reverb")
    parser.add_argument("--seeds", nargs="+", default=["1-3"])
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", help="default runs/study/<preset>_target-<time>")
    args = parser.parse_args()
    args.seeds = parse_seeds(args.seeds)
    runs = args.runs or f"runs/study/{args.preset}_target-{time.strftime('%Y%m%d-%H%M%S')}"
    config = load_preset(args.preset)
    cells = [(tau, period) for tau, period in itertools.product(TAUS, PERIODS) if not (tau == 1.0 and period == 1)]
    jobs = [(args.preset, tau, period, seed, args.steps, runs)
            for (tau, period), seed in itertools.product(cells, args.seeds)]
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(run_cell, *zip(*jobs)))

    m, threshold = machine(), results[0]["threshold"]
    lines = [f"# Target updates on {config.env.id}: tau x period ({time.strftime('%Y-%m-%d')})", "",
             f"`{args.preset}` preset, {args.steps} env steps, seeds {args.seeds}; greedy eval over "
             f"{config.eval_episodes} episodes every {config.eval_interval:,} steps. Machine: {m['cpu']}, "
             f"{m['cores']} cores, {args.jobs} runs at a time.", "",
             f"| tau | period (updates) | seeds reaching {threshold:g} | median first step at {threshold:g} | "
             "final eval per seed | mean of the last 3 evals |", "|---|---|---|---|---|---|"]
    for tau, period in cells:
        rows = [r for r in results if (r["tau"], r["period"]) == (tau, period)]
        solved = [r["solved_at_step"] for r in rows if r["solved_at_step"] is not None]
        tail = statistics.mean(v for r in rows for _, v in r["curve"][-3:])
        lines.append(f"| {tau:g} | {period} | {len(solved)} of {len(rows)} | "
                     f"{format(statistics.median(solved), '.0f') if solved else '-'} | "
                     f"{', '.join(format(r['final'], '.0f') for r in rows)} | {tail:.0f} |")
    (HERE / "study.md").write_text("\n".join(lines) + "\n")
    (HERE / "study.json").write_text(json.dumps({
        "preset": args.preset, "date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": m,
        "settings": {"steps": args.steps, "taus": TAUS, "periods": PERIODS, "jobs": args.jobs}, "seeds": args.seeds,
        "results": results}, indent=1))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for tau, period in cells:
        rows = [r for r in results if (r["tau"], r["period"]) == (tau, period)]
        steps = [s for s, _ in rows[0]["curve"]]
        mean = [statistics.mean(r["curve"][i][1] for r in rows) for i in range(len(steps))]
        ax.plot(steps, mean, label=f"tau {tau:g}, every {period}")
    ax.axhline(threshold, color="gray", linestyle="--")
    ax.set(xlabel="env steps", ylabel=f"greedy eval (mean of {len(args.seeds)} seeds)",
           title=f"{config.env.id} ({args.preset}): target-network update tau x period")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(HERE / "study.png", dpi=100)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
