"""Checkpoint and resume: the loop's state as one dataclass, saved atomically with the agent.

    state = read_loop_state(run_dir) if resume else LoopState.start(config)
    checkpoint = RunCheckpoint(run_dir, agent, env_steps_var, replay, best_weights)  # restores the newest
    checkpoint.save(state)

A checkpoint is one TensorFlow checkpoint holding the agent (networks, optimizer, train step),
the env-step counter, the best policy's weights, the in-memory replay's buffer where there is one,
and `LoopState` as a JSON string. A Reverb replay writes its own checkpoint first, and the agent's
checkpoint names it; a kill between the two resumes the newer replay (`replay_checkpoint_to_resume`).
"""

from __future__ import annotations

import dataclasses
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf
from tf_agents.utils import common

from tfa_custom_nets.agents import EzGreedyPyPolicy
from tfa_custom_nets.training.config import TrainConfig
from tfa_custom_nets.training.process import release_free_memory

LOOP_STATE_KEY = "loop_state/.ATTRIBUTES/VARIABLE_VALUE"


@dataclass
class LoopState:
    """Everything a resumed run needs besides TensorFlow variables; one JSON shape for every role."""

    env_steps: int = 0
    updates: int = 0
    train_seconds: float = 0.0
    """Training wall time: collection, updates and checkpoints; evaluation excluded."""
    next_checkpoint: int = 0
    next_eval: int = 0
    eval_index: int = 0
    solved_at_step: int | None = None
    solved_at_seconds: float | None = None
    best_eval_mean: float | None = None
    best_eval_step: int | None = None
    loss: float | None = None
    """The latest update's loss: a resumed run's first metrics row reports it, as the lost one did."""
    priority: float | None = None
    """Prioritized replay: the priority new items enter with (the largest written so far)."""
    recent_returns: list = field(default_factory=list)
    resumes: list = field(default_factory=list)
    rng: dict | None = None
    """The random streams of a single-process run (`capture_rng_states`)."""
    replay_checkpoint: str | None = None
    replay_items: int = 0
    refill_steps: int = 0
    """Random env steps that refilled an emptied replay on a resume: like the warm-up, they make no updates due."""
    invalid_actions: dict | None = None
    """Actions the env's mask ruled out, taken so far: `{"collect": n, "greedy_eval": m}` (envs with masks)."""

    @classmethod
    def start(cls, config: TrainConfig) -> LoopState:
        return cls(next_checkpoint=config.checkpoint_interval, next_eval=config.eval_interval)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> LoopState:
        data = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def latest_checkpoint(run_dir: str | Path) -> str | None:
    return tf.train.latest_checkpoint(str(Path(run_dir) / "checkpoints"))


def read_loop_state(run_dir: str | Path) -> LoopState:
    """The loop state of the newest checkpoint in `run_dir`, read before anything is built."""
    reader = tf.train.load_checkpoint(latest_checkpoint(run_dir))
    return LoopState.from_json(reader.get_tensor(LOOP_STATE_KEY).decode())


class RunCheckpoint:
    """The run's TensorFlow checkpoint (the newest two kept); restores the newest one on creation."""

    def __init__(self, run_dir: Path, agent, env_steps: tf.Variable, replay, best_weights: list,
                 checkpointed: dict | None = None):
        """`checkpointed`: what the agent's kind saves of it (`AgentKind.checkpointed`); the whole agent if None."""
        self._agent, self._env_steps, self._replay = agent, env_steps, replay
        self._loop_state = tf.Variable("", dtype=tf.string, name="loop_state")
        try:
            self._checkpointer = common.Checkpointer(
                ckpt_dir=str(run_dir / "checkpoints"), max_to_keep=2, env_steps=env_steps,
                loop_state=self._loop_state, best_policy=best_weights,
                **({"agent": agent} if checkpointed is None else checkpointed), **replay.trackables())
        except (ValueError, tf.errors.InvalidArgumentError, AssertionError) as error:
            raise ValueError(
                f"cannot resume {run_dir}: its checkpoint does not fit the agent that its config.json builds "
                f"({str(error).splitlines()[0][:200]}). The config (network.model, network.kwargs, agent.kind, the "
                "env) was changed after the run started: restore config.json as the run wrote it, or start a new "
                "run with the new settings.") from error

    def save(self, state: LoopState, rng: dict | None = None) -> None:
        """The replay's own checkpoint first, then the agent's naming it."""
        state.replay_checkpoint = self._replay.checkpoint()
        if state.replay_checkpoint is not None:
            release_free_memory()  # Reverb's serialization buffers, freed but held by the allocator
        state.replay_items, state.priority, state.rng = self._replay.size(), self._replay.priority, rng
        self._loop_state.assign(state.to_json())
        self._env_steps.assign(np.int64(state.env_steps))
        self._checkpointer.save(global_step=self._agent.train_step_counter)


def use_readable_checkpoint(directory: Path) -> str:
    """The newest checkpoint in `directory` whose every tensor reads back; makes it the one restored."""
    state = tf.train.get_checkpoint_state(str(directory))
    candidates = list(reversed(state.all_model_checkpoint_paths))  # newest first
    failures = []
    for i, candidate in enumerate(candidates):
        try:
            reader = tf.train.load_checkpoint(candidate)
            for name in reader.get_variable_to_shape_map():
                reader.get_tensor(name)
            LoopState.from_json(reader.get_tensor(LOOP_STATE_KEY).decode())
        except (tf.errors.OpError, ValueError, KeyError, IndexError, UnicodeDecodeError) as error:  # short reads too
            failures.append(f"{Path(candidate).name}: {str(error).splitlines()[0][:160]}")
            continue
        if i > 0:
            tf.compat.v1.train.update_checkpoint_state(str(directory), candidate,
                                             all_model_checkpoint_paths=list(reversed(candidates[i:])))
            print(f"tfa-nets: the newest checkpoint cannot be read ({'; '.join(failures)}); resuming from "
                  f"{Path(candidate).name} instead.", file=sys.stderr, flush=True)
        return candidate
    raise ValueError(f"cannot resume {directory.parent}: no checkpoint in {directory} can be read "
                     f"({'; '.join(failures)}). Start the run again in a new directory.")


def capture_rng_states(train_envs, collect_policy, time_step=None) -> dict:
    """NumPy's and Python's global generators, each training env's and the ez-greedy policy's (with the action
    it holds), as JSON; with `time_step` (the collector's latest, kept only where it ends an episode), that step
    too, so a resumed run takes up exactly where the checkpoint was written (`TrainConfig.exact_resume`)."""
    numpy_state = np.random.get_state()
    ez = isinstance(collect_policy, EzGreedyPyPolicy)
    last = time_step is not None and bool(np.all(time_step.is_last()))
    return {"numpy": [numpy_state[0], numpy_state[1].tolist(), *numpy_state[2:]],
            "python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
            "envs": [env.gym_env.unwrapped.np_random.bit_generator.state for env in train_envs],
            "collect": collect_policy.rng.bit_generator.state if ez else None,
            "collect_hold": collect_policy.hold_state() if ez else None,
            "time_step": [np.asarray(x).tolist() for x in tf.nest.flatten(time_step)] if last else None}


def restore_rng_states(states: dict, train_envs, collect_policy):
    """Puts `capture_rng_states`' streams back into freshly built envs and policy; returns the saved time step
    (the episode's last, which the collector then steps from: the fresh env resets on that step, as the
    uninterrupted run's env did), or None."""
    if states.get("collect") is not None:
        collect_policy.rng.bit_generator.state = states["collect"]
    if states.get("collect_hold") is not None:
        collect_policy.set_hold_state(states["collect_hold"])
    kind, keys, *rest = states["numpy"]
    np.random.set_state((kind, np.asarray(keys, np.uint32), *rest))
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    for env, env_state in zip(train_envs, states["envs"], strict=True):
        generator = np.random.Generator(getattr(np.random, env_state["bit_generator"])())
        generator.bit_generator.state = env_state
        env.gym_env.unwrapped.np_random = generator
        env.seed(None)  # the next reset draws from the restored generator instead of reseeding
    if states.get("time_step") is None or len(train_envs) != 1:
        return None
    spec = train_envs[0].time_step_spec()
    flat = [np.asarray(value, leaf.dtype) for value, leaf in zip(states["time_step"], tf.nest.flatten(spec),
                                                                  strict=True)]
    return tf.nest.pack_sequence_as(spec, flat)


