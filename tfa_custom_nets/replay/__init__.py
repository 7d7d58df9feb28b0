"""Replay backends behind one protocol (`backends.ReplayBackend`), chosen by `backends.choose_backend` from what
each declares it can do, and started by `make_replay(config, agent)`.

    backends.py        the protocol, the capabilities, the registry and the rule that picks a backend
    memory_replay.py   MemoryReplay: TF-Agents' TFUniformReplayBuffer, no server, no port (the default)
    rollout.py         RolloutReplay: an on-policy agent's latest rollout (PPO)
    reverb_replay.py   ReverbReplay: a table on a Reverb server (prioritized replay, the distributed roles)
    reverb_tables.py   Reverb's pieces: tables, observers that write items, datasets, the server, its checkpoints
    items.py           the item layout every backend shares, importance weights and TD priorities

Reverb is imported only when a Reverb name is first used, so everything else works where dm-reverb is not
installed.
"""

from __future__ import annotations

import importlib

from tfa_custom_nets.replay.backends import (
    BACKENDS,
    Backend,
    Capabilities,
    ReplayBackend,
    backend_class,
    capabilities_of,
    choose_backend,
)
from tfa_custom_nets.replay.items import ItemLayout, importance_weights, sequence_length, td_priorities
from tfa_custom_nets.replay.memory_replay import (
    MemoryObserver,
    MemoryReplay,
    MemorySampler,
    make_memory_buffer,
    make_memory_sampler,
)
from tfa_custom_nets.replay.rollout import RolloutReplay

_REVERB_NAMES = {
    "reverb_tables": ["PRIORITIZED_TABLE", "SAMPLER_THREADS", "TABLE", "BatchedTransitionObserver",
                      "TransitionObserver", "check_port_free", "checkpoint_replay", "make_dataset", "make_observer",
                      "make_prioritized_table", "make_priority_writer",
                      "make_rate_limiter", "make_uniform_table", "replay_checkpoint_to_resume", "start_server"],
    "reverb_replay": ["ReverbReplay", "make_table", "table_name"],
}


class ReverbMissing(ImportError, ValueError):
    """A feature that needs dm-reverb, asked for where it is not installed (the modern stack)."""


def require_reverb(feature: str, instead: str = "") -> None:
    """A `ReverbMissing` error naming `feature`, the stack that has it and what to do `instead`, where
    dm-reverb cannot be imported."""
    try:
        import reverb  # noqa: F401  (the caller is about to use it)
    except ImportError:
        raise ReverbMissing(
            f"{feature} needs dm-reverb, which is not installed here: it exists only for the current stack (Python "
            f"3.9-3.11, TensorFlow 2.15; `make setup PYTHON=python3.11`){'. ' + instead if instead else ''}.",
            name="reverb") from None


def make_replay(config, agent, num_envs: int | None = None, checkpoint_dir=None, resume_from: str | None = None):
    """The single-process run's replay for `config`: the backend `choose_backend(config)` names, started.

    `num_envs`: the batch size of a batched env (None: one unbatched env). `checkpoint_dir`: where a backend that
    keeps its own files writes its checkpoints (and loads the newest from); `resume_from`: the replay checkpoint a
    resumed run's agent checkpoint names (checked to be there, or a newer one). A backend restored from the agent's
    checkpoint ignores both.
    """
    return backend_class(choose_backend(config)).start(config, agent, num_envs, checkpoint_dir, resume_from)


def __getattr__(name: str):
    for module, names in _REVERB_NAMES.items():
        if name in names:
            return getattr(importlib.import_module(f"tfa_custom_nets.replay.{module}"), name)
    raise AttributeError(f"module 'tfa_custom_nets.replay' has no attribute {name!r}")


__all__ = ["BACKENDS", "Backend", "Capabilities", "ReplayBackend", "backend_class", "capabilities_of",
           "choose_backend", "ItemLayout", "MemoryObserver", "MemoryReplay", "MemorySampler", "ReverbMissing",
           "RolloutReplay",
           "importance_weights", "make_memory_buffer", "make_memory_sampler", "make_replay", "require_reverb",
           "sequence_length", "td_priorities",
           *[name for names in _REVERB_NAMES.values() for name in names]]
