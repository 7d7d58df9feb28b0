"""Scale-out on Reverb: collection with 1, 2 and 4 actor processes, the learner's update rate, and
a short `minatar_breakout` run in one process against `tfa-nets launch --actors 2`.

Collection: a Reverb server with the `pong` preset's tables (no rate limiter, so actors never
wait for a learner) runs in this process; N `tfa-nets actor` processes collect Pong frames with
the Nature-DQN policy; after every actor has reported its first steps, transitions inserted per
second are read from the server over a fixed window. Learner: compiled updates of the `pong`
network (batch 32) sampled from the filled table, no actors running.

    python benchmarks/distributed.py [--window 60] [--actors 1 2 4] [--minatar-steps 30000]

Writes benchmarks/results/distributed.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
from tfa_custom_nets import replay
from tfa_custom_nets.distributed import VARIABLES_TABLE, Role, make_tables
from tfa_custom_nets.training import load_preset, machine, override

RESULTS = Path(__file__).resolve().parent / "results"
CLI = [sys.executable, "-m", "tfa_custom_nets.cli"]


def collection(config, actors: int, window: float) -> dict:
    """Transitions per second inserted by `actors` actor processes, measured over `window` seconds."""
    from tf_agents.experimental.distributed import reverb_variable_container

    role = Role(config, config.seed)
    server = replay.start_server(make_tables(config, role.agent, role.shared, rate_limited=False))
    address = f"localhost:{server.port}"
    reverb_variable_container.ReverbVariableContainer(address, [VARIABLES_TABLE]).push(role.shared.nest)
    table = replay.ReverbReplay(config, address)
    processes = [subprocess.Popen([*CLI, "actor", "--config", "pong", "--replay", address, "--actor-id", str(i),
                                   "--report-seconds", "5"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True) for i in range(actors)]
    try:
        for process in processes:  # each has stepped its env and inserted: start-up is behind it
            for line in process.stdout:
                if " progress: " in line:
                    break
        start_items, start = table.inserted(), time.perf_counter()
        time.sleep(window)
        items, seconds = table.inserted() - start_items, time.perf_counter() - start
    finally:
        for process in processes:
            process.kill()
            process.wait()
        server.stop()
    return {"actors": actors, "transitions": items, "seconds": round(seconds, 1),
            "transitions_per_s": round(items / seconds, 1)}


def learner_rate(config, updates: int = 300) -> dict:
    """Updates per second of the `pong` learner, sampling a table filled by one actor."""
    from tf_agents.experimental.distributed import reverb_variable_container

    from tfa_custom_nets.training import make_train_step

    role = Role(config, config.seed)
    server = replay.start_server(make_tables(config, role.agent, role.shared, rate_limited=False))
    address = f"localhost:{server.port}"
    reverb_variable_container.ReverbVariableContainer(address, [VARIABLES_TABLE]).push(role.shared.nest)
    table = replay.ReverbReplay(config, address)
    actor = subprocess.Popen([*CLI, "actor", "--config", "pong", "--replay", address], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        while table.inserted() < config.replay.learning_starts:
            time.sleep(1)
    finally:
        actor.kill()
        actor.wait()
    try:
        train_step = make_train_step(role.agent, table.batches, config,
                                     table.priority_writer() if table.prioritized else None)
        train_step(20)  # tracing and warm-up
        start = time.perf_counter()
        float(train_step(updates)[0])
        seconds = time.perf_counter() - start
    finally:
        server.stop()
    return {"updates": updates, "seconds": round(seconds, 2), "updates_per_s": round(updates / seconds, 1),
            "batch_size": config.replay.batch_size}


def minatar(steps: int, actors: int, out: Path) -> list[dict]:
    """`minatar_breakout` for `steps` env steps: one process (`train`), then `launch --actors N`."""
    sets = [f"total_env_steps={steps}", f"eval_interval={steps}", f"checkpoint_interval={steps}"]
    rows = []
    for mode in ("single process", f"launch, {actors} actors"):
        run_dir = out / mode.split(",")[0].replace(" ", "_")
        command = ([*CLI, "train", "minatar_breakout", "--set", "progress=False"] if mode == "single process"
                   else [*CLI, "launch", "minatar_breakout", "--actors", str(actors)])
        command += ["--seed", "1", "--run-dir", str(run_dir)] + [arg for s in sets for arg in ("--set", s)]
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        summary = json.loads((run_dir / "summary.json").read_text())
        rows.append({"mode": mode, "env_steps": summary["env_steps"], "updates": summary["updates"],
                     "train_seconds": summary["train_seconds"], "wall_seconds": round(wall, 1),
                     "env_steps_per_s": summary["env_steps_per_s"], "eval_mean": round(summary["eval_mean"], 2)})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--window", type=float, default=60.0, help="seconds of collection measured per setting")
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--minatar-steps", type=int, default=30_000, help="0 skips the minatar comparison")
    args = parser.parse_args(argv)
    config = override(load_preset("pong"), ["replay.capacity=20000", "replay.learning_starts=2000"])
    result = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
              "collection": [collection(config, n, args.window) for n in args.actors],
              "learner": learner_rate(config)}
    base = result["collection"][0]["transitions_per_s"] / result["collection"][0]["actors"]
    for row in result["collection"]:
        row["speedup"] = round(row["transitions_per_s"] / base, 2)
    if args.minatar_steps:
        import tempfile

        with tempfile.TemporaryDirectory() as out:
            result["minatar"] = minatar(args.minatar_steps, 2, Path(out))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "distributed.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "distributed.md").write_text(markdown(result))
    print(markdown(result))
    return 0


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = [f"# Scale-out: actors, learner, launch ({result['date']})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, TensorFlow {m['tensorflow']}. "
             "Every process (server, actors, learner) on this one machine.", "",
             "## Collection: `pong` (ALE Pong, Nature-DQN policy), no learner", "",
             "| actors | transitions/s | vs 1 actor | seconds measured |", "|---|---|---|---|"]
    for row in result["collection"]:
        lines.append(f"| {row['actors']} | {row['transitions_per_s']} | {row['speedup']}x | {row['seconds']} |")
    learner = result["learner"]
    lines += ["", f"Learner alone (`pong` network, batch {learner['batch_size']}, compiled loop, sampling from the "
              f"server): **{learner['updates_per_s']} updates/s** ({learner['updates']} updates in "
              f"{learner['seconds']} s).", ""]
    if "minatar" in result:
        lines += ["## `minatar_breakout`: one process vs `launch`", "",
                  "| mode | env steps | updates | training s | wall s (start-up included) | env steps/s | "
                  "final eval |", "|---|---|---|---|---|---|---|"]
        for row in result["minatar"]:
            lines.append(f"| {row['mode']} | {row['env_steps']} | {row['updates']} | {row['train_seconds']} | "
                         f"{row['wall_seconds']} | {row['env_steps_per_s']} | {row['eval_mean']} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
