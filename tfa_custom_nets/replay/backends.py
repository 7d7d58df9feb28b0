"""Replay backends behind one protocol: what the training loop calls (`ReplayBackend`), what each backend can do
(`Capabilities`, declared in `BACKENDS` so that nothing is imported to ask), and the rule that picks one for a
config (`choose_backend`). The loop asks a backend's capabilities; it never compares backend names.

    name = choose_backend(config)                 # 'rollout' on-policy, else replay.backend or the first that fits
    replay = start_backend(config, agent, num_envs, checkpoint_dir, resume_from)

A new backend is one module with a class that implements `ReplayBackend` (and its `start`) plus one entry here.
This module imports no TensorFlow and no Reverb.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Capabilities:
    """What a replay backend can do."""

    prioritized: bool = False
    """Samples in proportion to priorities and takes new priorities back after each update."""
    rate_limited: bool = False
    """Holds sampled items per inserted item itself (`replay.samples_per_insert`)."""
    remote_actors: bool = False
    """Serves actors and a learner in other processes (the distributed roles)."""
    restored_from: str = "agent_checkpoint"
    """Where a resumed run's replay comes from: `agent_checkpoint` (its variables are in the run's checkpoint) or
    `own_files` (it writes its own checkpoint, which the run's checkpoint names)."""
    repeatable: bool = False
    """With `deterministic=True`, samples from (seed, update counter) alone: a resumed run samples as the
    uninterrupted one would (`TrainConfig.exact_resume`)."""
    on_policy: bool = False
    """Holds the latest rollout only, emptied by the update that reads it."""
    requires: str | None = None
    """The distribution it needs beyond the core dependencies (`dm-reverb`), or None."""


class ReplayBackend(Protocol):
    """The training loop's only view of replay."""

    observer: Any
    """A PyDriver observer for the run's env(s)."""
    batches: Any
    """An iterator of `(experience, info)` batches, read inside the compiled update."""
    prioritized: bool
    """Whether updates write priorities back (`priority_writer()`)."""
    priority: float
    """The priority new items enter with (prioritized: the largest seen so far)."""

    @classmethod
    def start(cls, config, agent, num_envs: int | None, checkpoint_dir, resume_from: str | None) -> ReplayBackend:
        """The backend for a single-process run of `config`."""

    def priority_writer(self):
        """A function `(info, priorities) -> op` that writes priorities back (prioritized backends)."""

    def commit(self) -> None:
        """Makes the steps collected so far sampleable (between updates)."""

    def size(self) -> int:
        """Items or steps held."""

    def trackables(self) -> dict:
        """TensorFlow objects saved in the agent's checkpoint."""

    def checkpoint(self) -> str | None:
        """Saves what the agent's checkpoint does not hold; its name, or None."""

    def close(self) -> None:
        """Stops what the backend started (a server, a thread)."""


@dataclass(frozen=True)
class Backend:
    """A registered backend: where its class lives (`module:Class` under `tfa_custom_nets.replay`, or a dotted
    module path of one's own) and what it can do."""

    target: str
    capabilities: Capabilities
    label: str
    """Its name in messages."""
    summary: str
    """What it does, in a few words, for messages."""


BACKENDS = {
    "memory": Backend("memory_replay:MemoryReplay", Capabilities(repeatable=True), "the in-memory replay",
                      "samples uniformly at the loop's ratio"),
    "reverb": Backend("reverb_replay:ReverbReplay",
                      Capabilities(prioritized=True, rate_limited=True, remote_actors=True, restored_from="own_files",
                                   requires="dm-reverb"), "Reverb",
                      "serves uniform or prioritized tables from a server, rate-limited if asked"),
    "rollout": Backend("rollout:RolloutReplay", Capabilities(on_policy=True), "the rollout",
                       "holds the latest rollout only"),
}


def choosable() -> tuple[str, ...]:
    """The values `replay.backend` takes besides `auto` (an on-policy kind always gets its rollout)."""
    return tuple(name for name, backend in BACKENDS.items() if not backend.capabilities.on_policy)


NEED_LABELS = {"prioritized": "prioritized replay", "rate_limited": "samples_per_insert"}


def needs(replay_config) -> dict[str, bool]:
    """The capabilities a replay section asks for, by name."""
    return {"prioritized": replay_config.prioritized, "rate_limited": replay_config.samples_per_insert is not None}


def fits(name: str, replay_config) -> bool:
    """Whether backend `name` can do what the replay section asks."""
    capabilities = BACKENDS[name].capabilities
    return all(getattr(capabilities, need) for need, asked in needs(replay_config).items() if asked)


def choose_backend(config) -> str:
    """The backend a single-process run of `config` uses: the rollout for an on-policy kind; else
    `replay.backend`, or for `auto` the first registered backend that can do what the replay section asks
    (the in-memory one unless it asks for prioritized replay or a ratio limiter)."""
    if config.on_policy:
        return next(name for name, backend in BACKENDS.items() if backend.capabilities.on_policy)
    if config.replay.backend != "auto":
        return config.replay.backend
    return next(name for name in choosable() if fits(name, config.replay))


def capabilities_of(config) -> Capabilities:
    return BACKENDS[choose_backend(config)].capabilities


def backend_class(name: str):
    """The class registered as `name` (its module imported now): `module:Class` under `tfa_custom_nets.replay`, or
    a dotted module path of one's own (`my_package.my_replay:MyReplay`)."""
    module, _, cls = BACKENDS[name].target.partition(":")
    return getattr(importlib.import_module(module if "." in module else f"tfa_custom_nets.replay.{module}"), cls)
