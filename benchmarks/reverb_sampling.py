"""`make bench`: what a batch costs from Reverb, layout by layout and option by option, side by side
with the in-memory replay in one process; written to benchmarks/results/reverb_sampling.{json,md}.

CartPole-v1 items of the `cartpole_reverb` preset (one-step windows of 2 trajectory steps), 5,000 random
env steps from 16 envs in each table, batches of 64 read inside a compiled loop as the update reads them
(16 per call). Layouts: the trajectory's own columns (six for CartPole; how TF-Agents' observer writes
items) and one packed byte column (`replay.ItemLayout`, what the library's tables hold). Sampler options:
Reverb's sampling threads per dataset (`num_workers_per_iterator`) and samples in flight per thread;
uniform and prioritized tables. Each case is measured `--repeats` times, interleaved, and the median kept.

    python benchmarks/reverb_sampling.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
import numpy as np
import reverb
import tensorflow as tf
from tf_agents.drivers import py_driver
from tf_agents.environments import batched_py_environment
from tf_agents.policies import random_py_policy
from tf_agents.specs import tensor_spec

from tfa_custom_nets import replay
from tfa_custom_nets.training import load_preset, machine, make_agent, make_env

RESULTS = Path(__file__).resolve().parent / "results"
BATCH, ENVS, STEPS, K = 64, 16, 5_000, 16


class WindowWriter:
    """Two-step windows per env, as the trajectory's own columns (the layout before packing; TF-Agents'
    observer writes these) or packed (`layout`) in chunks of `chunk_steps` (None: Reverb's auto-tuned)."""

    def __init__(self, client, table: str, num_envs: int, layout=None, chunk_steps: int | None = None):
        self._table, self._layout = table, layout
        self._writers = [client.trajectory_writer(num_keep_alive_refs=2, validate_items=False)
                         for _ in range(num_envs)]
        for writer in self._writers if chunk_steps is not None else ():
            writer.configure((0,), num_keep_alive_refs=2, max_chunk_length=chunk_steps)
        self._steps = [0] * num_envs

    def __call__(self, trajectory) -> None:
        columns = tf.nest.flatten(trajectory)
        for i, writer in enumerate(self._writers):
            row = [column[i] for column in columns]
            writer.append(row if self._layout is None else [self._layout.pack(row)])
            self._steps[i] += 1
            if self._steps[i] >= 2:
                writer.create_item(self._table, 1.0, [column[-2:] for column in writer.history])
            if trajectory.is_last()[i]:
                writer.end_episode()
                self._steps[i] = 0

    def flush(self) -> None:
        for writer in self._writers:
            writer.flush()


def per_batch_us(iterator, calls: int = 60) -> float:
    """Microseconds per batch, K batches per compiled call, as the train step draws them."""
    @tf.function(input_signature=[tf.TensorSpec([], tf.int32)], autograph=False)
    def draw(n):
        def body(i, total):
            data = tf.nest.flatten(next(iterator)[0])
            return i + 1, total + tf.cast(tf.reduce_sum(data[0]), tf.float32)
        return tf.while_loop(lambda i, _: i < n, body, (0, 0.0), parallel_iterations=1)[1]

    float(draw(np.int32(K)))
    start = time.perf_counter()
    for _ in range(calls):
        float(draw(np.int32(K)))
    return (time.perf_counter() - start) / (calls * K) * 1e6


CLIENT = "Reverb, packed, `Client.sample(num_samples=64)` in Python (stacked to arrays; not yet in the graph)"


def client_sample_us(client, table: str, calls: int = 100) -> float:
    """A batch through the Python client: the lower bound for feeding the compiled step from it."""
    def batch():
        samples = list(client.sample(table, num_samples=BATCH, emit_timesteps=False))
        return np.stack([sample.data[0] for sample in samples])

    batch()
    start = time.perf_counter()
    for _ in range(calls):
        batch()
    return (time.perf_counter() - start) / calls * 1e6


def insert_us(observer, stream) -> float:
    start = time.perf_counter()
    for trajectory in stream:
        observer(trajectory)
    observer.flush()
    return (time.perf_counter() - start) / (len(stream) * ENVS) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    config = load_preset("cartpole_reverb")
    env = make_env(config.env, seed=0)
    agent = make_agent(config, tensor_spec.from_spec(env.time_step_spec()),
                       tensor_spec.from_spec(env.action_spec()), tf.Variable(0, dtype=tf.int64))[0]
    spec = agent.collect_data_spec
    columns_signature = tensor_spec.add_outer_dim(spec, 2)
    tables = [replay.make_uniform_table(spec, 100_000, min_size=BATCH, name="packed"),
              replay.make_prioritized_table(spec, 100_000, min_size=BATCH, name="packed, prioritized"),
              reverb.Table("columns", max_size=100_000, sampler=reverb.selectors.Uniform(),
                           remover=reverb.selectors.Fifo(), rate_limiter=reverb.rate_limiters.MinSize(BATCH),
                           signature=columns_signature),
              *[replay.make_uniform_table(spec, 100_000, min_size=BATCH, name=f"packed, chunks of {n}")
                for n in (1, 2)]]
    server = replay.start_server(tables)
    address = f"localhost:{server.port}"
    client = reverb.Client(address)
    batched = batched_py_environment.BatchedPyEnvironment([make_env(config.env, seed=i) for i in range(ENVS)],
                                                          multithreading=False)
    stream = []
    policy = random_py_policy.RandomPyPolicy(batched.time_step_spec(), batched.action_spec(), seed=0,
                                             outer_dims=(ENVS,))
    py_driver.PyDriver(batched, policy, [stream.append], max_steps=STEPS).run(batched.reset())
    memory = replay.make_memory_buffer(spec, 100_000, ENVS)
    layout = replay.ItemLayout(spec)
    observers = {"columns": WindowWriter(client, "columns", ENVS),
                 **{f"packed, chunks of {n}": WindowWriter(client, f"packed, chunks of {n}", ENVS, layout, n)
                    for n in (1, 2)},
                 "packed": replay.make_observer(client, spec, table_name="packed", num_envs=ENVS),
                 "packed, prioritized": replay.make_observer(client, spec, table_name="packed, prioritized",
                                                             num_envs=ENVS),
                 "memory": replay.MemoryObserver(memory, ENVS)}
    inserts = {name: insert_us(observer, stream) for name, observer in observers.items()}

    def dataset(table, threads=replay.SAMPLER_THREADS, in_flight=4, packed=True, one=False):
        data = reverb.TrajectoryDataset.from_table_signature(address, table, in_flight * BATCH,
                                                            num_workers_per_iterator=threads)
        data = data.batch(BATCH, drop_remainder=True)
        data = data.map(lambda s: (layout.unpack(s.data) if packed else s.data, s.info)).prefetch(4)
        if one:
            options = tf.data.Options()
            options.threading.private_threadpool_size = options.threading.max_intra_op_parallelism = 1
            options.autotune.enabled = False
            data = data.with_options(options)
        return iter(data)

    cases = {
        "memory (TFUniformReplayBuffer, one get_next)": lambda: replay.make_memory_sampler(memory, BATCH),
        "Reverb, trajectory columns, auto threads": lambda: dataset("columns", -1, packed=False),
        "Reverb, trajectory columns, 2 threads": lambda: dataset("columns", 2, packed=False),
        "Reverb, packed, auto threads": lambda: dataset("packed", -1),
        "Reverb, packed, 2 threads, chunks of 1 step": lambda: dataset("packed, chunks of 1"),
        "Reverb, packed, 2 threads, chunks of 2 steps": lambda: dataset("packed, chunks of 2"),
        "Reverb, packed, 1 thread": lambda: dataset("packed", 1),
        "Reverb, packed, 2 threads (the library's)": lambda: iter(replay.make_dataset(address, spec, BATCH, "packed")),
        "Reverb, packed, 1 thread, tf.data on one thread, no autotuning": lambda: dataset("packed", 1, one=True),
        "Reverb, packed, 4 threads": lambda: dataset("packed", 4),
        "Reverb, packed, 2 threads, 1 batch in flight": lambda: dataset("packed", 2, 1),
        "Reverb, packed, 2 threads, 16 batches in flight": lambda: dataset("packed", 2, 16),
        "Reverb, packed, prioritized, 2 threads": lambda: iter(replay.make_dataset(address, spec, BATCH,
                                                                                        "packed, prioritized")),
    }
    measured = {name: [] for name in [*cases, CLIENT]}
    for _ in range(args.repeats):  # interleaved: drift in the machine's speed hits every case
        for name, make in cases.items():
            measured[name].append(per_batch_us(make()))
            print(f"{name}: {measured[name][-1]:.0f} us", flush=True)
        measured[CLIENT].append(client_sample_us(client, "packed"))
    server.stop()
    batched.close()
    result = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine(), "repeats": args.repeats,
              "per_batch_us": {name: statistics.median(v) for name, v in measured.items()}, "all_us": measured,
              "insert_us_per_env_step": inserts}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "reverb_sampling.json").write_text(json.dumps(result, indent=1) + "\n")
    (RESULTS / "reverb_sampling.md").write_text(report(result) + "\n")
    print(report(result))


def report(result: dict) -> str:
    m, costs = result["machine"], result["per_batch_us"]
    memory = costs["memory (TFUniformReplayBuffer, one get_next)"]
    lines = [f"# Reverb sampling, per batch ({result['date']})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, TensorFlow {m['tensorflow']}. "
             f"CartPole-v1 one-step items, batches of {BATCH} drawn {K} per compiled call from tables of "
             f"{STEPS:,} random env steps of {ENVS} envs; the median of {result['repeats']} interleaved "
             "measurements each, one process.", "",
             "| replay, layout, sampler | us per batch | vs memory |", "|---|---|---|"]
    lines += [f"| {name} | {us:.0f} | {us / memory:.1f}x |" for name, us in costs.items()]
    lines += ["", "Writing (us per env step, 16 envs' steps per batched trajectory, flushed): "
              + "; ".join(f"{name} {us:.0f}" for name, us in result["insert_us_per_env_step"].items()) + "."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
