"""With the in-memory backend a run repeats exactly for a seed (Reverb's samplers cannot be seeded)."""

import csv

import pytest

from tests.tiny import tiny_sets
from tfa_custom_nets.training import load_preset, override, train_eval

SETS = tiny_sets({"total_env_steps": 6000, "update_every": 4, "replay.backend": "memory", "replay.learning_starts": 500,
                  "replay.batch_size": 32, "eval_interval": 2000, "eval_episodes": 5, "checkpoint_interval": 6000,
                  "network.kwargs": {'hidden_units': [32]}, "agent.epsilon_decay_steps": 3000, "deterministic": True})


def eval_returns(tmp_path, seed, name, steps=6_000):
    config = override(load_preset("cartpole_reverb"), [*SETS, f"seed={seed}", f"run_dir={str(tmp_path / name)!r}",
                                                f"total_env_steps={steps}"])
    train_eval(config)
    with open(tmp_path / name / "metrics.csv") as f:
        return [(int(r["env_steps"]), float(r["eval_mean"]), r["loss"], r["train_return"]) for r in csv.DictReader(f)]


@pytest.mark.slow
def test_same_seed_same_eval_returns_for_6k_steps(tmp_path):
    first = eval_returns(tmp_path, 3, "a")
    assert [row[0] for row in first] == [2000, 4000, 6000]
    assert eval_returns(tmp_path, 3, "b") == first            # returns, losses and training returns alike
    assert eval_returns(tmp_path, 4, "c", steps=2000) != first[:1]  # and the seed matters
