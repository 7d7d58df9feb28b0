"""`make bench`: time to solve, one preset over 5 seeds run one after another (`cartpole` by default).

For each seed: the env steps and training seconds (evaluation excluded, warm-up and graph tracing
included) until the greedy evaluation first reaches the preset's threshold (its `env.threshold`, else
the env's registered one), with the preset's own evaluation episodes and interval, and the final
evaluation at the end of the run. Runs go one at a time so each has the machine to itself. The runner
and the results schema are `tfa_custom_nets.training.run_seeds` (`tfa-nets seeds`); written to
benchmarks/results/time_to_solve_<preset>.{json,md}.

    python benchmarks/time_to_solve.py [--preset cartpole] [--seeds 1-5] [--set key=value ...]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
from tfa_custom_nets.training import run_seeds, write_results

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="cartpole")
    parser.add_argument("--seeds", nargs="+", default=["1-5"])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = run_seeds(args.preset, args.seeds, ["progress=False", *args.set], runs=tmp, random_episodes=0)
    env = results["settings"]["config"]["env"]["id"]
    title = (f"# Time to solve {env}: `{args.preset}` preset, {len(results['seeds'])} seeds, one at a time "
             f"({results['date']})")
    path = write_results(results, RESULTS, f"time_to_solve_{args.preset}", title=title)
    print(path.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
