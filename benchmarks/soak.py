"""`make soak`: 1M env steps of a preset (`cartpole_reverb`) with resident memory sampled every 50k steps.

The run is the preset (its replay of 50k transitions, the 256x256 network, checkpoints every
100k steps with the replay in them) with 16 envs per batch, one update per 4 env steps and
batch 64, and evaluation every 50k steps over 5 episodes; each evaluation row of `metrics.csv`
carries the process's RSS. The replay is full from 50k steps on, so from there the memory
should not grow: the result reports the RSS spread and a least-squares slope over those
samples. `make soak` runs it with the preset's Reverb replay and again with the in-memory one.

    python benchmarks/soak.py [--preset cartpole_reverb] [--steps 1000000] [--every 50000] [--out soak]
                              [--set replay.backend=memory]
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
import numpy as np

from tfa_custom_nets.training import load_preset, machine, override, train_eval

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="cartpole_reverb")
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=50_000)
    parser.add_argument("--out", default="soak", help="results/<out>.{md,json,png}")
    parser.add_argument("--run-dir", help="default runs/soak/<preset>-<time>")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="more preset overrides")
    args = parser.parse_args()
    args.run_dir = args.run_dir or f"runs/soak/{args.preset}-{time.strftime('%Y%m%d-%H%M%S')}"
    sets = [f"total_env_steps={args.steps}", "num_envs=16", "update_every=4", "replay.batch_size=64",
            f"eval_interval={args.every}", "eval_episodes=5",
            f"checkpoint_interval={2 * args.every}", "progress=False", f"run_dir={args.run_dir!r}", *args.set]
    config = override(load_preset(args.preset), sets)
    summary = train_eval(config)
    with open(Path(args.run_dir) / "metrics.csv") as f:
        rows = [(int(r["env_steps"]), float(r["rss_mb"])) for r in csv.DictReader(f)]

    full = [(s, m) for s, m in rows if s >= config.replay.capacity] or rows  # the replay is full from here on
    steps, rss = np.array([s for s, _ in full], float), np.array([m for _, m in full])
    slope = float(np.polyfit(steps, rss, 1)[0]) * 100_000 if len(full) > 1 else float("nan")
    m = machine()
    result = {"preset": args.preset, "date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": m,
              "settings": {"overrides": sets, "config": config.to_dict()}, "summary": summary, "rss_mb": rows,
              "after_full": {"first": rss[0], "last": rss[-1], "min": rss.min(), "max": rss.max(),
                             "slope_mb_per_100k_steps": slope}}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(result, indent=1, default=float))
    lines = [f"# Soak: {args.steps:,} env steps of `{args.preset}` ({time.strftime('%Y-%m-%d')})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, TensorFlow {m['tensorflow']}. "
             f"Overrides: {sets}. Training took {summary['train_seconds'] / 60:.0f} min "
             f"({summary['env_steps_per_s']:.0f} env steps/s); the replay holds {config.replay.capacity:,} "
             "transitions, so it is full from that step on.", "",
             "| env steps | RSS (MiB) |", "|---|---|", *(f"| {s:,} | {r:.0f} |" for s, r in rows), "",
             f"After the replay filled: RSS {rss.min():.0f} to {rss.max():.0f} MiB (spread {rss.max() - rss.min():.0f} "
             f"MiB), first {rss[0]:.0f}, last {rss[-1]:.0f}; least-squares slope {slope:+.1f} MiB per 100k steps."]
    (RESULTS / f"{args.out}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot([s for s, _ in rows], [r for _, r in rows], marker="o")
    ax.axvline(config.replay.capacity, color="grey", linestyle=":", label="replay full")
    ax.set(xlabel="env steps", ylabel="RSS (MiB)", ylim=(0, max(r for _, r in rows) * 1.2),
           title=f"{args.preset}, {args.steps:,} env steps: resident memory")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / f"{args.out}.png", dpi=100)


if __name__ == "__main__":
    main()
