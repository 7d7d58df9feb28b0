"""Replay backends behind one protocol: the registry's capabilities choose the backend, each registered class
has every member the loop calls, and a backend registered under a new name trains a run with nothing else
changed."""

import pytest

from tests.conftest import HAS_REVERB
from tfa_custom_nets.replay import BACKENDS, Backend, Capabilities, ReplayBackend, backend_class, choose_backend
from tfa_custom_nets.training import TrainConfig, override, train_eval

MEMBERS = [name for name in dir(ReplayBackend) if not name.startswith("_")]


@pytest.mark.parametrize("name", [name for name in BACKENDS if HAS_REVERB or not BACKENDS[name].capabilities.requires])
def test_every_registered_backend_has_what_the_loop_calls(name):
    cls = backend_class(name)
    assert set(MEMBERS) >= {"start", "commit", "priority_writer", "size", "trackables", "checkpoint", "close"}
    methods = [member for member in MEMBERS if member not in ReplayBackend.__annotations__]  # the rest: attributes
    assert [member for member in methods if not callable(getattr(cls, member, None))] == []


@pytest.mark.parametrize("sets, backend", [
    ([], "memory"),
    (["replay.prioritized=True"], "reverb"),
    (["replay.samples_per_insert=4.0"], "reverb"),
    (["replay.backend='reverb'"], "reverb"),
    (["agent.kind='ppo'", "network.model='tfa_custom_nets.models:dense_actor_model'",
      "network.critic_model='tfa_custom_nets.models:dense_value_model'"], "rollout"),
])
def test_the_backend_is_chosen_by_what_it_can_do(sets, backend):
    config = override(TrainConfig(), sets)
    assert choose_backend(config) == config.replay_backend == backend
    assert config.uses_reverb is (backend == "reverb")
    assert config.replace(deterministic=True).exact_resume is (backend == "memory")  # only memory samples repeatably


def test_an_explicit_backend_that_cannot_do_what_is_asked_names_one_that_can():
    with pytest.raises(ValueError, match=r"replay.backend='memory' samples uniformly at the loop's ratio; "
                                         r"prioritized replay and samples_per_insert need Reverb: "
                                         r"replay.backend='reverb' or 'auto'"):
        override(TrainConfig(), ["replay.backend='memory'", "replay.prioritized=True"])
    with pytest.raises(ValueError, match=r"replay.backend must be one of \('auto', 'memory', 'reverb'\), got 'disk'"):
        override(TrainConfig(), ["replay.backend='disk'"])


def test_a_backend_registered_under_a_new_name_trains_a_run(monkeypatch, tmp_path):
    monkeypatch.setitem(BACKENDS, "copy", Backend("tfa_custom_nets.replay.memory_replay:MemoryReplay",
                                                  Capabilities(repeatable=True), "a copy", "samples uniformly"))
    config = override(TrainConfig(), ["replay.backend='copy'", "total_env_steps=300", "replay.learning_starts=100",
                                      "replay.batch_size=16", "eval_interval=300", "eval_episodes=2",
                                      "network.kwargs={'hidden_units': [16]}", "progress=False",
                                      f"run_dir={str(tmp_path / 'run')!r}"])
    assert config.replay_backend == "copy" and not config.uses_reverb
    summary = train_eval(config)
    assert summary["env_steps"] == 300 and summary["updates"] == 50
