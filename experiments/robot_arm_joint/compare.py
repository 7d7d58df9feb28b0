"""BDQ vs the joint-action path on RobotArm: learning curves and steps to the threshold, from the
two presets' seed runs (`tfa-nets seeds robot_arm_bdq ...` and `tfa-nets seeds robot_arm_joint ...`).

    python experiments/robot_arm_joint/compare.py

Writes `bdq_vs_joint.md` and `bdq_vs_joint.png` next to this file. Output sizes and update times
as the joints grow are in `benchmarks/results/robot_arm_paths.md`.
"""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path

HERE = Path(__file__).resolve().parent
PRESETS = {"robot_arm_bdq": "BDQ (BranchingDqnAgent)", "robot_arm_joint": "joint actions (DdqnAgent)"}


def curves(preset: str) -> tuple[dict, list[list[tuple[int, float]]]]:
    results = json.loads((HERE.parent / preset / "results.json").read_text())
    runs = []
    for summary in results["summaries"]:
        with open(Path(summary["run_dir"]) / "metrics.csv") as f:
            runs.append([(int(r["env_steps"]), float(r["eval_mean"])) for r in csv.DictReader(f)])
    return results, runs


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    lines = ["# RobotArm-v0 (2 joints x 5 turns + gripper): BDQ vs joint actions", "",
             "| path | seeds | reached 22 | env steps to 22 per seed | best eval per seed | final eval per seed |",
             "|---|---|---|---|---|---|"]
    threshold = None
    for (preset, label), colour in zip(PRESETS.items(), ("C0", "C1")):
        results, runs = curves(preset)
        summaries = results["summaries"]
        threshold = summaries[0]["threshold"]
        for run in runs:
            ax.plot(*zip(*run), color=colour, alpha=0.25, linewidth=0.8)
        steps = [s for s, _ in runs[0]]
        ax.plot(steps, [statistics.mean(run[i][1] for run in runs) for i in range(len(steps))], color=colour,
                linewidth=2, label=f"{label}, mean of {len(runs)} seeds")
        reached = [s["solved_at_step"] for s in summaries]
        lines.append(f"| {label} | {len(summaries)} | {sum(r is not None for r in reached)} of {len(summaries)} | "
                     f"{', '.join('-' if r is None else str(r) for r in reached)} | "
                     f"{', '.join(format(s['best_eval_mean'], '.1f') for s in summaries)} | "
                     f"{', '.join(format(s['eval_mean'], '.1f') for s in summaries)} |")
    ax.axhline(threshold, color="gray", linestyle="--", label=f"threshold {threshold:g}")
    ax.set(xlabel="env steps", ylabel="greedy eval mean (20 episodes)", title="RobotArm-v0: BDQ vs joint actions")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(HERE / "bdq_vs_joint.png", dpi=100)
    (HERE / "bdq_vs_joint.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
