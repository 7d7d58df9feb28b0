"""`make bench-peers`: a preset against Stable-Baselines3 with RL Zoo's tuned settings (`cartpole` against SB3's
DQN, `pendulum_td3` against SB3's TD3), seed by seed, interleaved, each run a fresh process on an otherwise idle
machine; written to benchmarks/results/peers_<preset>.{json,md}.

Both sides are measured alike: training seconds (warm-up included, evaluation excluded) until the
first greedy evaluation reaches the threshold, the best evaluation and the final one; SB3 is evaluated on the
preset's own schedule and judged by the preset's threshold. The ratio is our median
training seconds to the threshold over SB3's (a seed that never reaches it counts as infinitely slow). SB3
runs in `.venv-peers` (`benchmarks/peers/sb3_<preset>.py`), ours in this environment. The order
alternates seed by seed, so drift in the machine's speed hits both sides.

    python benchmarks/peers.py [--preset cartpole] [--seeds 21 22 23 24 25] [--peers-python .venv-peers/bin/python]
    python benchmarks/peers.py --preset pendulum_td3 --seeds 1 2 3 4 5
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
PEERS = {  # preset -> (its SB3 script in benchmarks/peers/, the peer's name); env, threshold, evaluation: the preset's
    "cartpole": ("sb3_cartpole.py", "Stable-Baselines3 DQN (RL Zoo)"),
    "pendulum_td3": ("sb3_pendulum_td3.py", "Stable-Baselines3 TD3 (RL Zoo)"),
}
KEYS = ("seed", "solved_at_step", "solved_at_seconds", "best_eval_mean", "best_eval_step", "eval_mean", "eval_std",
        "env_steps", "train_seconds")


def ours(preset: str, seed: int, sets: list[str]) -> dict:
    """One seed of our preset in this (fresh) process; its summary."""
    import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)
    from tfa_custom_nets.training import train_seed

    with tempfile.TemporaryDirectory() as tmp:
        summary = train_seed(preset, [*sets, "progress=False"], seed, str(Path(tmp) / "run"))
    return {key: summary[key] for key in KEYS}


def run(command: list[str]) -> dict:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def median_steps(rows: list[dict]) -> float:
    return statistics.median(math.inf if r["solved_at_step"] is None else r["solved_at_step"] for r in rows)


def median_seconds(rows: list[dict]) -> float:
    return statistics.median(math.inf if r["solved_at_seconds"] is None else r["solved_at_seconds"] for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="cartpole", choices=sorted(PEERS))
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
    from tfa_custom_nets.training import preset_threshold

    evaluation = ["--eval-interval", str(config.eval_interval), "--eval-episodes", str(config.eval_episodes),
                  f"--threshold={preset_threshold(config)}"]
    rows = {"ours": [], "sb3": []}
    for i, seed in enumerate(args.seeds):
        sides = {"ours": [sys.executable, __file__, "--preset", args.preset, "--child", str(seed),
                          *[f"--set={s}" for s in args.set]],
                 "sb3": [args.peers_python, str(ROOT / "peers" / PEERS[args.preset][0]), "--seed", str(seed),
                         *evaluation]}
        for side in (("ours", "sb3") if i % 2 == 0 else ("sb3", "ours")):
            result = run(sides[side])
            rows[side].append(result)
            print(side, json.dumps({key: result[key] for key in KEYS}), flush=True)
    result = summarize(rows, args, config)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"peers_{args.preset}.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / f"peers_{args.preset}.md").write_text(report(result) + "\n")
    print(report(result))


def summarize(rows: dict, args, config) -> dict:
    from tfa_custom_nets.training import machine, preset_threshold

    sides, threshold = {}, preset_threshold(config)
    for side, runs in rows.items():
        sides[side] = {"runs": runs, "reached": sum(r["solved_at_step"] is not None for r in runs),
                       "best_at_threshold": sum(r["best_eval_mean"] >= threshold for r in runs),
                       "final_at_threshold": sum(r["eval_mean"] >= threshold for r in runs),
                       "median_seconds_to_threshold": median_seconds(runs)}
    ratio = sides["ours"]["median_seconds_to_threshold"] / sides["sb3"]["median_seconds_to_threshold"]
    return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(), "preset": args.preset,
            "peer": PEERS[args.preset][1], "env": config.env.id, "threshold": threshold,
            "settings": {"overrides": args.set, "config": config.to_dict()}, "seeds": args.seeds,
            "sb3_versions": rows["sb3"][0].get("versions"), "sides": sides, "ratio_of_medians": ratio}


def report(result: dict) -> str:
    m, sides, v = result["machine"], result["sides"], result["sb3_versions"]
    names = {"ours": f"`{result['preset']}` (TF-Agents, this library)",
             "sb3": result["peer"]}
    env, bar, config = result["env"], f"{result['threshold']:g}", result["settings"]["config"]

    def cell(value, digits=1):
        return "never" if value is None else f"{value:,.{digits}f}"

    lines = [f"# {env} against Stable-Baselines3 ({result['date']})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, TensorFlow {m['tensorflow']}; "
             f"Stable-Baselines3 {v['stable_baselines3']}, torch {v['torch']} (CPU), gymnasium {v['gymnasium']}. "
             f"Seeds {', '.join(map(str, result['seeds']))}, run "
             "one at a time, the two sides interleaved (the order alternating seed by seed). Both: training "
             "seconds with warm-up included and evaluation excluded; greedy evaluation over "
             f"{config['eval_episodes']} episodes every {config['eval_interval']:,} env steps. "
             "Overrides: " + (", ".join(result["settings"]["overrides"]) or "none") + ".", "",
             f"| side | seed | first eval >= {bar} (env steps) | training s to it | best eval (at step) | final eval | "
             "env steps | training s |", "|---|---|---|---|---|---|---|---|"]
    for side, data in sides.items():
        lines += [f"| {names[side]} | {r['seed']} | {cell(r['solved_at_step'], 0)} | {cell(r['solved_at_seconds'])} | "
                  f"{r['best_eval_mean']:.1f} ({r['best_eval_step']:,}) | {r['eval_mean']:.1f} ± {r['eval_std']:.1f} | "
                  f"{r['env_steps']:,} | {r['train_seconds']:.1f} |" for r in data["runs"]]
    lines += [""]
    for side, data in sides.items():
        n = len(data["runs"])
        lines.append(f"- {names[side]}: reached {bar} on {data['reached']} of {n}, best policy >= {bar} on "
                     f"{data['best_at_threshold']} of {n}, final >= {bar} on {data['final_at_threshold']} of {n}; "
                     f"median env steps to {bar}: {median_steps(data['runs']):,.0f}; median training seconds to "
                     f"{bar}: {data['median_seconds_to_threshold']:.1f}.")
    lines += ["", f"Ratio of medians (ours / SB3): **{result['ratio_of_medians']:.2f}x**."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
