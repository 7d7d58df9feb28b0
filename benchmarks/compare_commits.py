"""Side by side: one loop of `benchmarks/pipeline.py` in this checkout against another commit's.

    python benchmarks/compare_commits.py --base feb3b8c [--pairs 4] [--steps 20000] [--loop "pipeline, memory replay"]

Checks `--base` out into a temporary git worktree and runs the loop from each checkout in its own
Python process (the package imported from that checkout, not the editable install), alternating
which goes first in each pair, so drift in the shared machine's speed hits both. Writes
`benchmarks/results/compare_commits.{md,json}`: every run, the median of each side and their ratio.
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
# Runs `benchmarks/pipeline.py` of the checkout in argv[1], importing the package from there.
CHILD = """
import runpy, sys
root = sys.argv[1]
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in getattr(f, "__module__", "")]
sys.path.insert(0, root)
import tfa_custom_nets
assert tfa_custom_nets.__file__.startswith(root), tfa_custom_nets.__file__
sys.argv = [root + "/benchmarks/pipeline.py", *sys.argv[2:]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def run(root: Path, loop: str, steps: int) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(root), "--child", loop, "--threads", "default",
                           "--steps", str(steps), "--num-envs", "16"], capture_output=True, text=True, cwd=root)
    if done.returncode != 0:
        raise RuntimeError(f"{root}: {done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {**result, "env_steps_per_s": result["env_steps"] / result["seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True, help="the commit to compare against")
    parser.add_argument("--loop", default="pipeline, memory replay")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20_000)
    args = parser.parse_args()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO,
                          check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        base_root = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(base_root), args.base], cwd=REPO, check=True,
                       capture_output=True)
        try:
            runs = []
            for pair in range(args.pairs):
                order = [("base", base_root), ("head", REPO)]
                for side, root in order if pair % 2 == 0 else order[::-1]:
                    runs.append({"side": side, "pair": pair, **run(root, args.loop, args.steps)})
                    print(json.dumps(runs[-1]), flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base_root)], cwd=REPO, check=True)
    rates = {side: [r["env_steps_per_s"] for r in runs if r["side"] == side] for side in ("base", "head")}
    medians = {side: statistics.median(values) for side, values in rates.items()}
    result = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "base": args.base, "head": head, "loop": args.loop,
              "steps": args.steps, "runs": runs, "median_env_steps_per_s": medians,
              "head_over_base": medians["head"] / medians["base"]}
    from tfa_custom_nets.training import machine  # after the runs: this process stays out of their way

    result["machine"] = machine()
    lines = [f"# {args.loop}: {head} against {args.base} ({result['date']})", "",
             f"Machine: {result['machine']['cpu']}, {result['machine']['cores']} cores. `benchmarks/pipeline.py "
             f"--child '{args.loop}'` ({args.steps:,} env steps, 16 envs, one update per env step) from each "
             f"checkout in its own process, {args.pairs} pairs, alternating which side runs first.", "",
             "| pair | side | env steps/s |", "|---|---|---|"]
    lines += [f"| {r['pair']} | {r['side']} | {r['env_steps_per_s']:.0f} |" for r in runs]
    lines += ["", f"Median env steps/s: {args.base} {medians['base']:.0f}, {head} {medians['head']:.0f}: "
              f"**{result['head_over_base']:.3f}x**."]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "compare_commits.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / "compare_commits.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
