"""`make bench`: pipeline throughput against a TF-Agents-tutorial-style loop, the compiled-loop
limit, and where the time goes per env step; written to benchmarks/results/pipeline.{json,md}.

All at one update per env step, batch 64, the `cartpole` preset's network (256x256 MLP) and agent,
on CartPole-v1, measured side by side in one process run:

- **pipeline**: `train_eval` with `num_envs` envs stepped as one batch and every due update in one
  compiled call (updates overlapped with collection), over `--steps` env steps, once with the
  in-memory replay and once with Reverb;
- **tutorial**: the loop of TF-Agents' DQN tutorial: one `PyDriver` step with a `PyTFEagerPolicy`
  and a `ReverbAddTrajectoryObserver`, then one `agent.train` (a `common.function`) on the next batch
  of `ReverbReplayBuffer.as_dataset`, per iteration, over the same env steps;
- **limit**: updates alone (no collection), `k` per compiled call, from each replay and from one
  fixed batch, measured before and after the loops.

Both loops count training wall time for the same env steps and updates, the 1,000-step random
warm-up and graph tracing included (evaluation excluded). The profile times each stage of the
pipeline in isolation (env, policy, replay insert, driver bookkeeping, sample, update) per env step.

    python benchmarks/pipeline.py [--steps 20000] [--num-envs 16] [--repeats 2]
"""

from __future__ import annotations

import argparse
import itertools
import json
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
from tfa_custom_nets.training import load_preset, override, train_eval
from tfa_custom_nets.training.compiled_policy import CompiledPyPolicy
from tfa_custom_nets.training.run_files import machine
from tfa_custom_nets.training.train_eval import StepCounter, make_agent, make_env, make_train_step

RESULTS = Path(__file__).resolve().parent / "results"
WARMUP = 1_000
BATCH = 64


def bench_config(steps: int, num_envs: int, backend: str, run_dir: str):
    return override(load_preset("cartpole"), [
        f"total_env_steps={steps}", "update_every=1", f"num_envs={num_envs}", f"replay.batch_size={BATCH}",
        f"replay.learning_starts={WARMUP}", f"replay.backend={backend!r}", f"eval_interval={steps}",
        "eval_episodes=2", f"checkpoint_interval={steps}", "progress=False", f"run_dir={run_dir!r}"])


def agent_for(config, env):
    time_step_spec = tensor_spec.from_spec(env.time_step_spec())
    action_spec = tensor_spec.from_spec(env.action_spec())
    env_steps = tf.Variable(0, dtype=tf.int64)
    return make_agent(config, time_step_spec, action_spec, env_steps)[0], env_steps


def pipeline(steps: int, num_envs: int, backend: str, tmp: str) -> dict:
    config = bench_config(steps, num_envs, backend, str(Path(tmp) / f"pipeline-{time.time_ns()}"))
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
        observers = {"reverb": replay.make_observer(reverb.Client(address), table_name=table.name,
                                                    num_envs=num_envs),
                     "memory": replay.MemoryObserver(buffer, num_envs)}
        random_actions = random_py_policy.RandomPyPolicy(batched.time_step_spec(), batched.action_spec(), seed=0,
                                                         outer_dims=(num_envs,))
        stream = []
        py_driver.PyDriver(batched, random_actions, [stream.append, *observers.values()],
                           max_steps=5_000).run(batched.reset())
        for observer in observers.values():
            observer.flush()
        samplers = {"memory": replay.make_memory_sampler(buffer, BATCH),
                    "reverb": iter(replay.make_dataset(address, BATCH, table_name=table.name))}
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


LOOPS = ("pipeline, memory replay", "pipeline, Reverb replay", "tutorial loop, Reverb replay")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--num-envs", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    config = bench_config(args.steps, args.num_envs, "memory", "unused")
    runs = {"pipeline, memory replay": lambda tmp: pipeline(args.steps, args.num_envs, "memory", tmp),
            "pipeline, Reverb replay": lambda tmp: pipeline(args.steps, args.num_envs, "reverb", tmp),
            "tutorial loop, Reverb replay": lambda tmp: tutorial(args.steps, config)}
    k = args.num_envs  # the pipeline's updates per call at one update per env step
    # The limits are measured before and after the loops (the machine's speed drifts on a shared
    # host), and the faster of the two is the one the pipeline is compared with.
    limits_before = limits_and_profile(config, args.num_envs, k)
    print(json.dumps(limits_before), flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):  # interleaved, so drift in machine load hits every loop
            for name in LOOPS:
                result = runs[name](tmp)
                rows.append({"loop": name, "repeat": repeat, **result,
                             "env_steps_per_s": result["env_steps"] / result["seconds"],
                             "updates_per_s": result["updates"] / result["seconds"]})
                print(json.dumps(rows[-1]), flush=True)
    limits_after = limits_and_profile(config, args.num_envs, k)
    print(json.dumps(limits_after), flush=True)
    limits = min((limits_before, limits_after), key=lambda m: m["update_ms_per_call_of_k"]["fixed batch"])
    best = {name: max(r["updates_per_s"] for r in rows if r["loop"] == name) for name in LOOPS}
    limit = {name: 1e3 / ms for name, ms in limits["update_ms_per_call_of_k"].items()}
    tutorial_best = best["tutorial loop, Reverb replay"]
    result = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(), "num_envs": args.num_envs,
              "env_steps": args.steps, "runs": rows, **limits, "limit_updates_per_s": limit,
              "limits_before": limits_before, "limits_after": limits_after,
              "over_tutorial": {name: best[name] / tutorial_best for name in LOOPS[:2]},
              "of_limit": {"memory": best[LOOPS[0]] / limit["memory"], "reverb": best[LOOPS[1]] / limit["reverb"],
                           "memory vs fixed batch": best[LOOPS[0]] / limit["fixed batch"]}}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "pipeline.json").write_text(json.dumps(result, indent=1) + "\n")
    m = result["machine"]
    lines = [f"# Pipeline throughput ({result['date']})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, TensorFlow {m['tensorflow']}.",
             f"CartPole-v1, the `cartpole` preset's 256x256 MLP and Double DQN agent, batch {BATCH}, one update per "
             f"env step, {args.steps:,} env steps per run (the first {WARMUP:,} random); training time with the "
             "warm-up and graph tracing included, evaluation excluded; the loops interleaved in one process run. "
             f"The pipeline steps {args.num_envs} envs as one batch and runs each iteration's {k} updates as one "
             "compiled call on a second thread; the tutorial loop is TF-Agents' DQN tutorial's (one `PyDriver` step "
             "and one `agent.train` per iteration).", "",
             "| loop | repeat | env steps/s | updates/s |", "|---|---|---|---|"]
    lines += [f"| {r['loop']} | {r['repeat']} | {r['env_steps_per_s']:.0f} | {r['updates_per_s']:.0f} |"
              for r in rows]
    lines += ["", "Best of each, over the tutorial loop at equal work: "
              f"**{result['over_tutorial'][LOOPS[0]]:.2f}x** with memory replay, "
              f"{result['over_tutorial'][LOOPS[1]]:.2f}x with Reverb replay.", "",
              f"Compiled-loop limit: updates alone, {k} per call, with no collection, measured before and after "
              "the loops; the table shows the faster measurement (ms per update on a fixed batch: "
              f"{limits_before['update_ms_per_call_of_k']['fixed batch']:.3f} before, "
              f"{limits_after['update_ms_per_call_of_k']['fixed batch']:.3f} after):", "",
              "| fed from | ms per update | updates/s | pipeline's best, as a share of it |", "|---|---|---|---|"]
    shares = {"memory": result["of_limit"]["memory"], "reverb": result["of_limit"]["reverb"],
              "fixed batch": result["of_limit"]["memory vs fixed batch"]}
    for name, ms in limits["update_ms_per_call_of_k"].items():
        share = f"{100 * shares[name]:.0f}%" if name in shares else ""
        lines.append(f"| {name} | {ms:.3f} | {1e3 / ms:.0f} | {share} |")
    lines += ["", "(`fixed batch` is the update alone: one batch sampled once and reused; the memory share in the "
              "last column of that row compares the memory-replay pipeline with it.)", "",
              f"Where the time goes (each stage timed alone; {args.num_envs} envs per batch; per env step, and per "
              "update for sampling and the update, which the pipeline runs once per env step):", "",
              "| stage | us |", "|---|---|"]
    lines += [f"| {name} | {us:.0f} |" for name, us in limits["profile_us"].items()]
    lines += ["", f"Collection alone (the compiled policy, the batched env and the memory-replay insert through "
              f"`PyDriver`): {limits['collect_us_per_env_step']:.0f} us per env step."]
    (RESULTS / "pipeline.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
