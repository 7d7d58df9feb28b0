"""`make bench`: pipeline throughput against a TF-Agents-tutorial-style loop, the compiled-loop
limit, and where the time goes per env step; written to benchmarks/results/pipeline.{json,md}.

All at one update per env step, batch 64, the `cartpole` preset's network (256x256 MLP) and agent,
on CartPole-v1, measured side by side in one process run:

- **pipeline**: `train_eval` with `num_envs` envs stepped as one batch and every due update in one
  compiled call (updates overlapped with collection), over `--steps` env steps, once with the
  in-memory replay, once with Reverb and once with prioritized Reverb replay (priorities written
  back after every update);
- **tutorial**: the loop of TF-Agents' DQN tutorial: one `PyDriver` step with a `PyTFEagerPolicy`
  and a `ReverbAddTrajectoryObserver`, then one `agent.train` (a `common.function`) on the next batch
  of `ReverbReplayBuffer.as_dataset`, per iteration, over the same env steps;
- **limit**: updates alone (no collection), `k` per compiled call, from each replay and from one
  fixed batch, measured before and after the loops.

Both loops count training wall time for the same env steps and updates, the 1,000-step random
warm-up and graph tracing included (evaluation excluded). Each measurement runs in its own Python
process, once with TensorFlow's default intra-op threads and once with one (`tf_threads=1`), so
each loop is compared at its best setting as well as at equal settings. The profile times each stage of the
pipeline in isolation (env, policy, replay insert, driver bookkeeping, sample, update) per env step.

    python benchmarks/pipeline.py [--steps 20000] [--num-envs 16] [--repeats 2]
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
import numpy as np
import reverb
import tensorflow as tf
from tf_agents.drivers import py_driver
from tf_agents.environments import batched_py_environment
from tf_agents.policies import py_tf_eager_policy, random_py_policy, random_tf_policy
from tf_agents.replay_buffers import reverb_replay_buffer, reverb_utils
from tf_agents.specs import tensor_spec
from tf_agents.utils import common

from tfa_custom_nets import replay
from tfa_custom_nets.training import (
    CompiledPyPolicy,
    StepCounter,
    load_preset,
    machine,
    make_agent,
    make_env,
    make_train_step,
    override,
    set_tf_threads,
    train_eval,
)

RESULTS = Path(__file__).resolve().parent / "results"
WARMUP = 1_000
BATCH = 64


def bench_config(steps: int, num_envs: int, backend: str, run_dir: str, threads: int | None = None,
                 prioritized: bool = False):
    return override(load_preset("cartpole_reverb"), [f"replay.prioritized={prioritized}",
        f"total_env_steps={steps}", "update_every=1", f"num_envs={num_envs}", f"replay.batch_size={BATCH}",
        f"replay.learning_starts={WARMUP}", f"replay.backend={backend!r}", f"eval_interval={steps}",
        "eval_episodes=2", f"checkpoint_interval={steps}", "progress=False", f"run_dir={run_dir!r}",
        f"tf_threads={threads}"])


def agent_for(config, env):
    time_step_spec = tensor_spec.from_spec(env.time_step_spec())
    action_spec = tensor_spec.from_spec(env.action_spec())
    env_steps = tf.Variable(0, dtype=tf.int64)
    return make_agent(config, time_step_spec, action_spec, env_steps)[0], env_steps


def pipeline(steps: int, num_envs: int, backend: str, tmp: str, threads: int | None = None,
             prioritized: bool = False) -> dict:
    config = bench_config(steps, num_envs, backend, str(Path(tmp) / f"pipeline-{time.time_ns()}"), threads,
                          prioritized)
    summary = train_eval(config)
    return {"env_steps": summary["env_steps"], "updates": summary["updates"], "seconds": summary["train_seconds"]}


def tutorial(steps: int, config) -> dict:
    """The TF-Agents DQN tutorial's loop (1 collect step + 1 train step per iteration)."""
    env = make_env(config.env, seed=config.seed)
    agent, _ = agent_for(config, env)
    table_name = "uniform_table"
    signature = tensor_spec.add_outer_dim(tensor_spec.from_spec(agent.collect_data_spec), 2)
    table = reverb.Table(table_name, max_size=config.replay.capacity, sampler=reverb.selectors.Uniform(),
                         remover=reverb.selectors.Fifo(), rate_limiter=reverb.rate_limiters.MinSize(1),
                         signature=signature)
    server = reverb.Server([table])
    try:
        start = time.perf_counter()
        buffer = reverb_replay_buffer.ReverbReplayBuffer(agent.collect_data_spec, table_name=table_name,
                                                         sequence_length=2, local_server=server)
        observer = reverb_utils.ReverbAddTrajectoryObserver(buffer.py_client, table_name, sequence_length=2)
        random_policy = random_tf_policy.RandomTFPolicy(agent.time_step_spec, agent.action_spec)
        time_step, _ = py_driver.PyDriver(
            env, py_tf_eager_policy.PyTFEagerPolicy(random_policy, use_tf_function=True), [observer],
            max_steps=WARMUP).run(env.reset())
        dataset = buffer.as_dataset(num_parallel_calls=3, sample_batch_size=BATCH, num_steps=2).prefetch(3)
        iterator = iter(dataset)
        agent.train = common.function(agent.train)
        driver = py_driver.PyDriver(
            env, py_tf_eager_policy.PyTFEagerPolicy(agent.collect_policy, use_tf_function=True), [observer],
            max_steps=1)
        for _ in range(steps - WARMUP):
            time_step, _ = driver.run(time_step)
            experience, _ = next(iterator)
            agent.train(experience)
        seconds = time.perf_counter() - start
    finally:
        server.stop()
        env.close()
    return {"env_steps": steps, "updates": steps - WARMUP, "seconds": seconds}


def per_update_ms(train_steps, k: int, total: int = 3000) -> float:
    train_steps(min(k, 10))  # trace and warm up
    start = time.perf_counter()
    for _ in range(total // k):
        float(train_steps(k)[0])
    return (time.perf_counter() - start) / (total // k * k) * 1e3


def limits_and_profile(config, num_envs: int, k: int) -> dict:
    """Updates alone (no collection; k per call) from each replay and from one fixed batch, and
    each collection stage timed alone per env step, with `num_envs` envs per batch."""
    env = make_env(config.env, seed=0)
    agent, env_steps_var = agent_for(config, env)
    table = replay.make_uniform_table(agent.collect_data_spec, config.replay.capacity, min_size=BATCH)
    server = replay.start_server([table])
    address = f"localhost:{server.port}"
    envs = [make_env(config.env, seed=i) for i in range(num_envs)]
    batched = batched_py_environment.BatchedPyEnvironment(envs, multithreading=False)
    try:
        buffer = replay.make_memory_buffer(agent.collect_data_spec, config.replay.capacity, num_envs)
        observers = {"reverb": replay.make_observer(reverb.Client(address), agent.collect_data_spec,
                                                    table_name=table.name, num_envs=num_envs),
                     "memory": replay.MemoryObserver(buffer, num_envs)}
        random_actions = random_py_policy.RandomPyPolicy(batched.time_step_spec(), batched.action_spec(), seed=0,
                                                         outer_dims=(num_envs,))
        stream = []
        py_driver.PyDriver(batched, random_actions, [stream.append, *observers.values()],
                           max_steps=5_000).run(batched.reset())
        for observer in observers.values():
            observer.flush()
        samplers = {"memory": replay.make_memory_sampler(buffer, BATCH),
                    "reverb": iter(replay.make_dataset(address, agent.collect_data_spec, BATCH,
                                                                table_name=table.name))}
        fixed = next(samplers["memory"])
        update_ms = {name: per_update_ms(make_train_step(agent, sampler, config), k)
                     for name, sampler in [*samplers.items(), ("fixed batch", itertools.repeat(fixed))]}
        update_ms["fixed batch, 1 per call"] = per_update_ms(make_train_step(agent, itertools.repeat(fixed), config),
                                                             1, 500)

        def timed(fn, calls):
            fn()
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            return (time.perf_counter() - start) / calls

        sample_ms = {}
        for name, sampler in samplers.items():  # k batches per compiled call, as the train step draws them
            @tf.function(input_signature=[tf.TensorSpec([], tf.int32)], autograph=False)
            def sample(n, s=sampler):
                def body(i, total):
                    return i + 1, total + tf.reduce_sum(next(s)[0].reward)
                return tf.while_loop(lambda i, _: i < n, body, (0, 0.0), parallel_iterations=1)[1]

            sample_ms[name] = timed(lambda f=sample: float(f(np.int32(k))), 100) / k * 1e3

        env_steps_var.assign(np.int64(10**6))  # epsilon at its end value
        policy = CompiledPyPolicy(agent.collect_policy, batched=True)
        time_step = batched.reset()
        actions = policy.action(time_step).action
        trajectories = stream[-200:]

        def insert(observer):
            for trajectory in trajectories:
                observer(trajectory)
            observer.flush()

        us = {"env step": timed(lambda: batched.step(actions), 300) / num_envs,
              "policy call": timed(lambda: policy.action(time_step), 300) / num_envs,
              "replay insert, memory": timed(lambda: insert(observers["memory"]), 3) / (200 * num_envs),
              "replay insert, Reverb": timed(lambda: insert(observers["reverb"]), 3) / (200 * num_envs)}
        counter = StepCounter()
        driver = py_driver.PyDriver(batched, policy, [observers["memory"], counter], max_steps=400 * num_envs)
        start = time.perf_counter()
        driver.run(batched.reset())
        observers["memory"].flush()
        collect = (time.perf_counter() - start) / counter.steps
        us = {name: seconds * 1e6 for name, seconds in us.items()}
        us["driver and trajectory bookkeeping"] = max(0.0, collect * 1e6 - us["env step"] - us["policy call"]
                                                      - us["replay insert, memory"])
        us["sample a batch, memory (per update)"] = sample_ms["memory"] * 1e3
        us["sample a batch, Reverb (per update)"] = sample_ms["reverb"] * 1e3
        us["update on a fixed batch (compiled loop)"] = update_ms["fixed batch"] * 1e3
    finally:
        server.stop()
        batched.close()
        env.close()
    return {"update_ms_per_call_of_k": update_ms, "k": k, "collect_us_per_env_step": collect * 1e6,
            "profile_us": us}


LOOPS = ("pipeline, memory replay", "pipeline, Reverb replay", "tutorial loop, Reverb replay",
         "pipeline, prioritized Reverb replay")
THREADS = (None, 1)  # TensorFlow's default intra-op threads (one per core), and one


def threads_name(threads: int | None) -> str:
    return "default" if threads is None else str(threads)


def threads_label(name: str) -> str:
    return "1 thread" if name == "1" else f"{name} threads"


def child(kind: str, threads: int | None, steps: int, num_envs: int) -> dict:
    """One measurement in this (fresh) process, with `threads` intra-op threads set before TensorFlow starts."""
    applied = set_tf_threads(threads)
    assert applied == (threads or 0), (applied, threads)
    config = bench_config(steps, num_envs, "memory", "unused", threads)
    if kind == "limits":
        return limits_and_profile(config, num_envs, num_envs)
    with tempfile.TemporaryDirectory() as tmp:
        if kind == LOOPS[2]:
            return tutorial(steps, config)
        return pipeline(steps, num_envs, "memory" if kind == LOOPS[0] else "reverb", tmp, threads,
                        prioritized=kind == LOOPS[3])


def measure(kind: str, threads: int | None, args) -> dict:
    """`child` in a new Python process (thread pools are fixed once TensorFlow starts), its result."""
    command = [sys.executable, __file__, "--child", kind, "--threads", threads_name(threads),
               "--steps", str(args.steps), "--num-envs", str(args.num_envs)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} with {threads_name(threads)} threads failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--num-envs", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", choices=[*LOOPS, "limits"], help=argparse.SUPPRESS)
    parser.add_argument("--threads", default="default", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        threads = None if args.threads == "default" else int(args.threads)
        print(json.dumps(child(args.child, threads, args.steps, args.num_envs)))
        return
    k = args.num_envs  # the pipeline's updates per call at one update per env step
    # The limits are measured before and after the loops (the machine's speed drifts on a shared
    # host), and the faster of the two is the one the pipeline is compared with.
    limits_before = {threads_name(t): measure("limits", t, args) for t in THREADS}
    print(json.dumps(limits_before), flush=True)
    rows = []
    for repeat in range(args.repeats):  # interleaved, so drift in machine load hits every loop
        for name in LOOPS:
            for threads in THREADS:
                result = measure(name, threads, args)
                rows.append({"loop": name, "threads": threads_name(threads), "repeat": repeat, **result,
                             "env_steps_per_s": result["env_steps"] / result["seconds"],
                             "updates_per_s": result["updates"] / result["seconds"]})
                print(json.dumps(rows[-1]), flush=True)
    limits_after = {threads_name(t): measure("limits", t, args) for t in THREADS}
    print(json.dumps(limits_after), flush=True)
    result = summarize(rows, limits_before, limits_after, args)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pipeline.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / "pipeline.md").write_text(report(result, args, k) + "\n")
    print(report(result, args, k))


def summarize(rows: list, limits_before: dict, limits_after: dict, args) -> dict:
    """Best rows, limits and ratios from the measurements (each loop and limit at its best thread setting)."""
    limits = {name: min((limits_before[name], limits_after[name]),
                        key=fixed_ms) for name in limits_before}
    # Each loop's best row over thread settings and repeats; each limit the best over thread settings.
    best = {name: max((r for r in rows if r["loop"] == name), key=lambda r: r["updates_per_s"]) for name in LOOPS}
    limit = {fed: max(1e3 / m["update_ms_per_call_of_k"][fed] for m in limits.values())
             for fed in limits["default"]["update_ms_per_call_of_k"]}
    tutorial_best = best[LOOPS[2]]["updates_per_s"]
    at_equal_threads = {
        threads: {name: max(r["updates_per_s"] for r in rows if r["loop"] == name and r["threads"] == threads)
                  / max(r["updates_per_s"] for r in rows if r["loop"] == LOOPS[2] and r["threads"] == threads)
                  for name in LOOPS[:2]}
        for threads in limits}
    return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(), "num_envs": args.num_envs,
            "env_steps": args.steps, "runs": rows, "limits": limits, "limit_updates_per_s": limit,
            "limits_before": limits_before, "limits_after": limits_after,
            "best": {name: {"threads": r["threads"], "updates_per_s": r["updates_per_s"]}
                     for name, r in best.items()},
            "over_tutorial": {name: best[name]["updates_per_s"] / tutorial_best for name in LOOPS[:2]},
            "of_memory_pipeline": {name: best[name]["env_steps_per_s"] / best[LOOPS[0]]["env_steps_per_s"]
                                   for name in (LOOPS[1], LOOPS[3])},
            "over_tutorial_at_equal_threads": at_equal_threads,
            "of_limit": {"memory": best[LOOPS[0]]["updates_per_s"] / limit["memory"],
                         "reverb": best[LOOPS[1]]["updates_per_s"] / limit["reverb"],
                         "memory vs fixed batch": best[LOOPS[0]]["updates_per_s"] / limit["fixed batch"]}}


def fixed_ms(limits: dict) -> float:
    return limits["update_ms_per_call_of_k"]["fixed batch"]


def report(result: dict, args, k: int) -> str:
    m, rows, limits = result["machine"], result["runs"], result["limits"]
    best, ratio = result["best"], result["over_tutorial"]
    lines = [f"# Pipeline throughput ({result['date']})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, TensorFlow {m['tensorflow']}.",
             f"CartPole-v1, the `cartpole` preset's 256x256 MLP and Double DQN agent, batch {BATCH}, one update per "
             f"env step, {args.steps:,} env steps per run (the first {WARMUP:,} random); training time with the "
             "warm-up and graph tracing included, evaluation excluded. Every run is its own Python process, with "
             "TensorFlow's default intra-op threads (one per core) or with one (`tf_threads=1`), set before "
             "TensorFlow starts; runs one at a time, interleaved. "
             f"The pipeline steps {args.num_envs} envs as one batch and runs each iteration's {k} updates as one "
             "compiled call on a second thread; the tutorial loop is TF-Agents' DQN tutorial's (one `PyDriver` step "
             "and one `agent.train` per iteration).", "",
             "| loop | intra-op threads | repeat | env steps/s | updates/s |", "|---|---|---|---|---|"]
    lines += [f"| {r['loop']} | {r['threads']} | {r['repeat']} | {r['env_steps_per_s']:.0f} | "
              f"{r['updates_per_s']:.0f} |" for r in rows]
    equal = result["over_tutorial_at_equal_threads"]
    lines += ["", "Each loop's best run (over thread settings and repeats) against the tutorial loop's best "
              f"({threads_label(best[LOOPS[2]]['threads'])}) at equal work: **{ratio[LOOPS[0]]:.2f}x** with "
              f"memory replay ({threads_label(best[LOOPS[0]]['threads'])}), {ratio[LOOPS[1]]:.2f}x with Reverb "
              f"replay ({threads_label(best[LOOPS[1]]['threads'])}). With both loops at the same setting: "
              + "; ".join(f"{threads_label(threads)} {r[LOOPS[0]]:.2f}x memory, {r[LOOPS[1]]:.2f}x Reverb"
                          for threads, r in equal.items()) + ".", "",
              "Reverb-fed against in-memory (the same pipeline, best run against best run, env steps/s): "
              + "; ".join(f"{name.removeprefix('pipeline, ')} **{100 * share:.0f}%**"
                          for name, share in result["of_memory_pipeline"].items()) + ".", "",
              f"Compiled-loop limit: updates alone, {k} per call, with no collection, measured before and after "
              "the loops at each thread setting; the faster of the two measurements each (ms per update on a fixed "
              "batch, before / after: "
              + "; ".join(f"{threads_label(t)} {fixed_ms(result['limits_before'][t]):.3f} / "
                          f"{fixed_ms(result['limits_after'][t]):.3f}" for t in limits) + "):", "",
              "| fed from | " + " | ".join(f"ms per update, {threads_label(t)}" for t in limits)
              + " | best updates/s | pipeline's best, as a share of it |",
              "|---|" + "---|" * (len(limits) + 2)]
    shares = {"memory": result["of_limit"]["memory"], "reverb": result["of_limit"]["reverb"],
              "fixed batch": result["of_limit"]["memory vs fixed batch"]}
    for fed, updates_per_s in result["limit_updates_per_s"].items():
        share = f"{100 * shares[fed]:.0f}%" if fed in shares else ""
        lines.append(f"| {fed} | " + " | ".join(f"{m['update_ms_per_call_of_k'][fed]:.3f}" for m in limits.values())
                     + f" | {updates_per_s:.0f} | {share} |")
    lines += ["", "(`fixed batch` is the update alone: one batch sampled once and reused; the memory share in the "
              "last column of that row compares the memory-replay pipeline with it.)", "",
              f"Where the time goes (each stage timed alone; {args.num_envs} envs per batch; per env step, and per "
              "update for sampling and the update, which the pipeline runs once per env step):", "",
              "| stage | " + " | ".join(f"us, {threads_label(t)}" for t in limits) + " |",
              "|---|" + "---|" * len(limits)]
    lines += [f"| {stage} | " + " | ".join(f"{m['profile_us'][stage]:.0f}" for m in limits.values()) + " |"
              for stage in limits["default"]["profile_us"]]
    lines += ["", "Collection alone (the compiled policy, the batched env and the memory-replay insert through "
              "`PyDriver`), us per env step: "
              + "; ".join(f"{threads_label(t)} {m['collect_us_per_env_step']:.0f}" for t, m in limits.items()) + "."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
