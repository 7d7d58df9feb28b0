"""`make bench-peers`: our CartPole preset against Stable-Baselines3's RL-Zoo-tuned DQN, seed by seed,
interleaved, each run a fresh process on an otherwise idle machine; written to
benchmarks/results/peers_cartpole.{json,md}.

Both sides are measured alike: training seconds (warm-up included, evaluation excluded) until the
first greedy evaluation reaches 475, the best evaluation and the final one; SB3 is evaluated on the
preset's own schedule (`cartpole`: 20 episodes every 2,500 env steps). The ratio is our median
training seconds to 475 over SB3's (a seed that never reaches it counts as infinitely slow). SB3
runs in `.venv-peers` (`benchmarks/peers/sb3_cartpole.py`), ours in this environment. The order
alternates seed by seed, so drift in the machine's speed hits both sides.

    python benchmarks/peers.py [--preset cartpole] [--seeds 21 22 23 24 25] [--peers-python .venv-peers/bin/python]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
THRESHOLD = 475.0
KEYS = ("seed", "solved_at_step", "solved_at_seconds", "best_eval_mean", "best_eval_step", "eval_mean", "eval_std",
        "env_steps", "train_seconds")


def ours(preset: str, seed: int, sets: list[str]) -> dict:
    """One seed of our preset in this (fresh) process; its summary."""
    import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)
    from tfa_custom_nets.training import load_preset, override, train_eval

    with tempfile.TemporaryDirectory() as tmp:
        summary = train_eval(override(load_preset(preset), [*sets, f"seed={seed}", "progress=False",
                                                            f"run_dir={str(Path(tmp) / 'run')!r}"]))
    return {key: summary[key] for key in KEYS}


def run(command: list[str]) -> dict:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def median_seconds(rows: list[dict]) -> float:
    return statistics.median(math.inf if r["solved_at_seconds"] is None else r["solved_at_seconds"] for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="cartpole")
    parser.add_argument("--seeds", type=int, nargs="+", default=[21, 22, 23, 24, 25])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--peers-python", default=str(ROOT.parent / ".venv-peers" / "bin" / "python"))
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(ours(args.preset, args.child, args.set)))
        return
    if not Path(args.peers_python).exists():
        sys.exit(f"no Stable-Baselines3 environment at {args.peers_python}: run `make bench-peers`, which builds it.")
    import tfa_custom_nets  # noqa: F401
    from tfa_custom_nets.training import load_preset, override

    config = override(load_preset(args.preset), args.set)  # SB3 is evaluated on the preset's own schedule
    evaluation = ["--eval-interval", str(config.eval_interval), "--eval-episodes", str(config.eval_episodes)]
    rows = {"ours": [], "sb3": []}
    for i, seed in enumerate(args.seeds):
        sides = {"ours": [sys.executable, __file__, "--preset", args.preset, "--child", str(seed),
                          *[f"--set={s}" for s in args.set]],
                 "sb3": [args.peers_python, str(ROOT / "peers" / "sb3_cartpole.py"), "--seed", str(seed),
                         *evaluation]}
        for side in (("ours", "sb3") if i % 2 == 0 else ("sb3", "ours")):
            result = run(sides[side])
            rows[side].append(result)
            print(side, json.dumps({key: result[key] for key in KEYS}), flush=True)
    result = summarize(rows, args, config)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "peers_cartpole.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / "peers_cartpole.md").write_text(report(result) + "\n")
    print(report(result))


def summarize(rows: dict, args, config) -> dict:
    from tfa_custom_nets.training import machine

    sides = {}
    for side, runs in rows.items():
        sides[side] = {"runs": runs, "reached": sum(r["solved_at_step"] is not None for r in runs),
                       "best_at_threshold": sum(r["best_eval_mean"] >= THRESHOLD for r in runs),
                       "final_at_threshold": sum(r["eval_mean"] >= THRESHOLD for r in runs),
                       "median_seconds_to_threshold": median_seconds(runs)}
    ratio = sides["ours"]["median_seconds_to_threshold"] / sides["sb3"]["median_seconds_to_threshold"]
    return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(), "preset": args.preset,
            "overrides": args.set, "seeds": args.seeds, "config": config.to_dict(),
            "sb3_versions": rows["sb3"][0].get("versions"), "sides": sides, "ratio_of_medians": ratio}


def report(result: dict) -> str:
    m, sides, v = result["machine"], result["sides"], result["sb3_versions"]
    names = {"ours": f"`{result['preset']}` (TF-Agents, this library)", "sb3": "Stable-Baselines3 DQN (RL Zoo)"}

    def cell(value, digits=1):
        return "never" if value is None else f"{value:,.{digits}f}"

    lines = [f"# CartPole-v1 against Stable-Baselines3 ({result['date']})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, TensorFlow {m['tensorflow']}; "
             f"Stable-Baselines3 {v['stable_baselines3']}, torch {v['torch']} (CPU), gymnasium {v['gymnasium']}. "
             f"Seeds {', '.join(map(str, result['seeds']))}, run "
             "one at a time, the two sides interleaved (the order alternating seed by seed). Both: training "
             "seconds with warm-up included and evaluation excluded; greedy evaluation over "
             f"{result['config']['eval_episodes']} episodes every {result['config']['eval_interval']:,} env steps. "
             "Overrides: " + (", ".join(result["overrides"]) or "none") + ".", "",
             "| side | seed | first eval >= 475 (env steps) | training s to it | best eval (at step) | final eval | "
             "env steps | training s |", "|---|---|---|---|---|---|---|---|"]
    for side, data in sides.items():
        lines += [f"| {names[side]} | {r['seed']} | {cell(r['solved_at_step'], 0)} | {cell(r['solved_at_seconds'])} | "
                  f"{r['best_eval_mean']:.1f} ({r['best_eval_step']:,}) | {r['eval_mean']:.1f} ± {r['eval_std']:.1f} | "
                  f"{r['env_steps']:,} | {r['train_seconds']:.1f} |" for r in data["runs"]]
    lines += [""]
    for side, data in sides.items():
        n = len(data["runs"])
        lines.append(f"- {names[side]}: reached 475 on {data['reached']} of {n}, best policy >= 475 on "
                     f"{data['best_at_threshold']} of {n}, final >= 475 on {data['final_at_threshold']} of {n}; "
                     f"median training seconds to 475: {data['median_seconds_to_threshold']:.1f}.")
    lines += ["", f"Ratio of medians (ours / SB3): **{result['ratio_of_medians']:.2f}x**."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
