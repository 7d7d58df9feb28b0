"""Replay backends behind one interface, built by `make_replay(config, agent)`.

A backend is the training loop's only view of replay:

    replay.observer            a PyDriver observer for the run's env(s)
    replay.commit()            make the steps collected so far sampleable (between updates)
    replay.batches             iterator of (experience, info) batches, read inside the compiled update
    replay.prioritized         whether updates write priorities back (replay.priority_writer())
    replay.priority            the priority new items enter with (prioritized: the largest seen)
    replay.size()              items (Reverb) or steps (memory) held
    replay.trackables()        TensorFlow objects saved in the agent's checkpoint
    replay.checkpoint()        save what the agent's checkpoint does not hold; its name or None
    replay.close()

`MemoryReplay` (TF-Agents' `TFUniformReplayBuffer`: no server, no port) is the default;
`RolloutReplay` holds an on-policy agent's latest rollout (`config.on_policy`: PPO);
`ReverbReplay` serves prioritized replay and the distributed roles. Reverb is imported only
when a Reverb name is first used, so everything else works where dm-reverb is not installed.
"""

from __future__ import annotations

import importlib

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
    "reverb_replay": ["PRIORITIZED_TABLE", "SAMPLER_THREADS", "TABLE", "BatchedTransitionObserver",
                      "TransitionObserver", "check_port_free", "checkpoint_replay", "make_dataset", "make_observer",
                      "make_prioritized_table", "make_priority_writer",
                      "make_rate_limiter", "make_uniform_table", "replay_checkpoint_to_resume", "start_server"],
    "reverb_backend": ["ReverbReplay", "make_table", "table_name"],
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
    """The single-process run's replay for `config`: the rollout of an on-policy agent, else in memory unless
    the run needs Reverb (`config.uses_reverb`: prioritized replay, or `replay.backend='reverb'`).

    `num_envs`: the batch size of a batched env (None: one unbatched env). `checkpoint_dir`: where
    a Reverb server keeps its checkpoints (and loads the newest from); `resume_from`: the Reverb
    checkpoint a resumed run's agent checkpoint names (checked to be there, or a newer one).
    The in-memory replay is restored with the agent's checkpoint instead.
    """
    if config.on_policy:
        return RolloutReplay(agent.collect_data_spec, config.update_every, num_envs)
    if not config.uses_reverb:
        exact = {"counter": agent.train_step_counter, "seed": config.seed} if config.deterministic else {}
        return MemoryReplay(agent.collect_data_spec, config.replay.capacity, config.replay.batch_size,
                            config.agent.n_step_update, num_envs, **exact)
    from tfa_custom_nets.replay.reverb_backend import ReverbReplay

    return ReverbReplay.start_local(config, agent.collect_data_spec, num_envs, checkpoint_dir, resume_from)


def __getattr__(name: str):
    for module, names in _REVERB_NAMES.items():
        if name in names:
            return getattr(importlib.import_module(f"tfa_custom_nets.replay.{module}"), name)
    raise AttributeError(f"module 'tfa_custom_nets.replay' has no attribute {name!r}")


__all__ = ["ItemLayout", "MemoryObserver", "MemoryReplay", "MemorySampler", "ReverbMissing", "RolloutReplay",
           "importance_weights", "make_memory_buffer", "make_memory_sampler", "make_replay", "require_reverb",
           "sequence_length", "td_priorities",
           *[name for names in _REVERB_NAMES.values() for name in names]]
