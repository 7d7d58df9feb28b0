"""A preset over several seeds: one runner, one results schema, one table (`tfa-nets seeds`).

    from tfa_custom_nets.training import run_seeds, seeds_table, write_results

    results = run_seeds("cartpole", seeds=[1, 2, 3, 4, 5], sets=["total_env_steps=20000"])
    write_results(results, "experiments/cartpole")          # results.json and results.md
    print(seeds_table(results))

Every study, benchmark and results page reads and writes the schema `run_seeds` returns (SCHEMA):
the preset, its settings (the overrides and the whole config), the seeds, one run summary per seed,
the threshold and evaluation the preset sets, the uniform-random policy's score on that evaluation,
the date and the machine. Thresholds, episodes and intervals come from the preset, never from a
constant in a script.
"""

from __future__ import annotations

import json
import multiprocessing
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

SCHEMA = "tfa_custom_nets.seeds/1"


def parse_seeds(tokens) -> list[int]:
    """Seeds from `1-5`, `1,3,5`, `1 2 3` or a mix (`1-3 7`); an int passes through."""
    tokens = [tokens] if isinstance(tokens, (str, int)) else list(tokens)
    seeds = []
    for token in tokens:
        for part in str(token).replace(",", " ").split():
            first, dash, last = part.partition("-")
            try:
                seeds += list(range(int(first), int(last) + 1)) if dash else [int(part)]
            except ValueError:
                raise ValueError(f"seeds: cannot read {part!r}; expected whole numbers such as `1-5`, `1,3,5` "
                                 "or `1 2 3`.") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds: expected at least one seed and no repeats, got {seeds} from {tokens}.")
    return seeds


def preset_threshold(config) -> float | None:
    """The greedy mean that counts as solved: the config's `env.threshold`, else the env's registered
    `reward_threshold` (None where neither is set)."""
    if config.env.threshold is not None:
        return config.env.threshold
    import gymnasium

    try:
        return gymnasium.spec(config.env.id).reward_threshold
    except gymnasium.error.Error:  # an env registered by an import the config names; the run will say
        return None


def train_seed(preset: str, sets: list[str], seed: int, run_dir: str, trust: bool = False) -> dict:
    """One seed's run of a preset (or config file) with overrides; its summary. A module-level function,
    so a worker process can run it."""
    from tfa_custom_nets.training.run_config import load_config
    from tfa_custom_nets.training.train_eval import train_eval

    return train_eval(load_config(preset, [*sets, f"seed={seed}", f"run_dir={run_dir!r}"], trust=trust))


def random_policy_returns(config, episodes: int):
    """Returns of a uniform-random policy on the config's env, from the seeds evaluation uses."""
    from tfa_custom_nets.training.builders import make_env
    from tfa_custom_nets.training.config import EVAL_SEED_OFFSET
    from tfa_custom_nets.training.evaluation import UniformRandomPyPolicy, evaluate

    eval_envs = [make_env(config.env) for _ in range(episodes)]
    policy = UniformRandomPyPolicy(eval_envs[0].time_step_spec(), eval_envs[0].action_spec())
    scores = evaluate(policy, eval_envs, EVAL_SEED_OFFSET)
    for env in eval_envs:
        env.close()
    return scores


def run_seeds(preset: str, seeds, sets=(), runs: str | Path = "runs/seeds", jobs: int = 1,
              random_episodes: int = 100, from_runs: str | None = None, trust: bool = False) -> dict:
    """Trains `preset` once per seed (one after another, or `jobs` at a time in separate processes) into
    `runs/<preset>/seed<N>-<stamp>`, or with `from_runs=STAMP` reads the finished runs of that stamp;
    returns the results in the SCHEMA shape. `random_episodes=0` skips the random-policy baseline."""
    from tfa_custom_nets.training.metrics import machine
    from tfa_custom_nets.training.run_config import load_config

    seeds, sets = parse_seeds(seeds), list(sets)
    config = load_config(preset, sets, trust=trust)  # a bad preset or override fails before any run
    stamp = from_runs or time.strftime("%Y%m%d-%H%M%S")
    name = config.name  # a preset's name; also right for an experiment.py or a run's config.json
    run_dirs = [str(Path(runs) / name / f"seed{seed}-{stamp}") for seed in seeds]
    if from_runs:
        missing = [d for d in run_dirs if not (Path(d) / "summary.json").exists()]
        if missing:
            raise FileNotFoundError(f"from_runs={from_runs!r}: no finished run (summary.json) in {missing}. "
                                    f"Fix: the stamp of runs under {Path(runs) / name}, or train them first.")
        summaries = [json.loads((Path(d) / "summary.json").read_text()) for d in run_dirs]
    elif jobs > 1:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            summaries = list(pool.map(train_seed, [preset] * len(seeds), [sets] * len(seeds), seeds, run_dirs,
                                      [trust] * len(seeds)))
    else:
        summaries = [train_seed(preset, sets, seed, d, trust) for seed, d in zip(seeds, run_dirs)]
    random_policy = None
    if random_episodes:
        scores = random_policy_returns(config, random_episodes)
        random_policy = {"episodes": len(scores), "mean": float(scores.mean()), "std": float(scores.std())}
    return {"schema": SCHEMA, "preset": name, "date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(),
            "settings": {"overrides": sets, "jobs": jobs, "config": config.to_dict()}, "seeds": seeds,
            "threshold": summaries[0]["threshold"], "eval_episodes": summaries[0]["eval_episodes"],
            "eval_interval": config.eval_interval, "summaries": summaries, "random_policy": random_policy}


def seeds_summary(results: dict) -> dict:
    """What the table's closing lines say: seeds reaching the threshold, medians, best and final at it."""
    runs, threshold = results["summaries"], results["threshold"]
    solved = [s for s in runs if s["solved_at_step"] is not None]
    out = {"seeds": len(runs), "reached": len(solved), "median_steps_to_threshold": None,
           "median_seconds_to_threshold": None, "best_at_threshold": None, "final_at_threshold": None}
    if threshold is not None:
        out["best_at_threshold"] = sum(s["best_eval_mean"] >= threshold for s in runs)
        out["final_at_threshold"] = sum(s["eval_mean"] >= threshold for s in runs)
    if solved:
        out["median_steps_to_threshold"] = statistics.median(s["solved_at_step"] for s in solved)
        out["median_seconds_to_threshold"] = statistics.median(s["solved_at_seconds"] for s in solved)
    return out


def machine_line(machine: dict) -> str:
    """`cpu, N cores`, as every results table opens with."""
    return f"{machine['cpu']}, {machine['cores']} cores"


def seeds_table(results: dict, title: str | None = None) -> str:
    """The Markdown page of a results dict: one row per seed, then the threshold and baseline lines."""
    runs, threshold, settings = results["summaries"], results["threshold"], results["settings"]
    bar = f"{threshold:g}" if threshold is not None else None
    lines = [title or f"# {results['preset']}: {len(runs)} seeds ({results['date'][:10]})", "",
             f"Machine: {machine_line(results['machine'])}; {settings.get('jobs', 1)} seed(s) trained at a time. "
             f"Overrides: {settings['overrides'] or 'none'}.", "",
             "| seed | " + (f"first eval >= {bar} (env steps) | training s to it | " if bar else "")
             + "best policy's eval mean (at step) | final eval mean ± std | env steps/s | wall s |",
             "|---" * (7 if bar else 5) + "|"]
    for s in runs:
        reached = (f"{s['solved_at_step'] if s['solved_at_step'] is not None else 'not reached'} | "
                   f"{s['solved_at_seconds'] if s['solved_at_seconds'] is not None else '-'} | ")
        lines.append(f"| {s['seed']} | {reached if bar else ''}{s['best_eval_mean']:.1f} ({s['best_eval_step']}) | "
                     f"{s['eval_mean']:.1f} ± {s['eval_std']:.1f} | {s['env_steps_per_s']:.0f} | "
                     f"{s['wall_seconds']:.0f} |")
    invalid = [s.get("invalid_actions") for s in runs]
    if all(counts is not None for counts in invalid):  # envs that publish an action mask
        collect = ", ".join(f"{counts.get('collect', 0):,}" for counts in invalid)
        greedy = ", ".join(f"{counts['greedy_eval']:,}" for counts in invalid)
        lines += ["", "Actions the env's mask rules out, taken over each whole run (seeds in order): by the collect "
                  f"policy (warm-up included) {collect}; by the greedy evaluations {greedy}."]
    lines += ["", f"Each eval: the greedy policy over {results['eval_episodes']} episodes."
              + (f" A uniform-random policy on the same evaluation ({results['random_policy']['episodes']} "
                 f"episodes): {results['random_policy']['mean']:.2f} ± {results['random_policy']['std']:.2f}."
                 if results.get("random_policy") else "")]
    if bar:
        summary = seeds_summary(results)
        n = len(runs)
        lines += ["", f"Best policy (`best_policy/`) at or above {bar}: {summary['best_at_threshold']} of {n} seeds; "
                  f"final policy at or above it: {summary['final_at_threshold']} of {n}."]
        lines += ["", f"Reached {bar}: {summary['reached']} of {n} seeds"
                  + (f", median at {summary['median_steps_to_threshold']:.0f} env steps, "
                     f"{summary['median_seconds_to_threshold']:.1f} s of training." if summary["reached"] else ".")]
    return "\n".join(lines) + "\n"


def write_results(results: dict, out_dir: str | Path, name: str = "results", title: str | None = None) -> Path:
    """Writes `<out_dir>/<name>.json` (the results) and `<name>.md` (their table); returns the JSON path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / f"{name}.md").write_text(seeds_table(results, title))
    return out / f"{name}.json"
