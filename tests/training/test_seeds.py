"""One way to run a preset over seeds: `run_seeds`, its results schema and table, and `tfa-nets seeds`."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tiny import tiny_sets
from tfa_custom_nets.training import (
    SCHEMA,
    load_preset,
    parse_seeds,
    preset_threshold,
    run_seeds,
    seeds_summary,
    seeds_table,
    write_results,
)

TFA_NETS = str(Path(sys.executable).with_name("tfa-nets"))


def test_seeds_read_as_ranges_lists_or_words():
    assert parse_seeds("1-5") == [1, 2, 3, 4, 5]
    assert parse_seeds(["1,3", "7"]) == [1, 3, 7]
    assert parse_seeds(["1-3", "9"]) == [1, 2, 3, 9]
    assert parse_seeds(4) == [4]
    with pytest.raises(ValueError, match="cannot read 'a'"):
        parse_seeds("1 a")
    with pytest.raises(ValueError, match="no repeats"):
        parse_seeds("1-3 2")


def test_the_threshold_comes_from_the_preset_else_from_the_env_registry():
    assert preset_threshold(load_preset("cartpole")) == 475.0  # CartPole-v1's registered reward_threshold
    assert preset_threshold(load_preset("pendulum_td3")) == -200.0  # the preset's env.threshold
    assert preset_threshold(load_preset("pendulum_td3").replace(env=load_preset("acrobot").env)) == -100.0


def _run(seed, solved_at, seconds, best, final):
    return {"seed": seed, "solved_at_step": solved_at, "solved_at_seconds": seconds, "best_eval_mean": best,
            "best_eval_step": 5000, "eval_mean": final, "eval_std": 1.0, "env_steps_per_s": 500.0,
            "wall_seconds": 60.0, "threshold": 475.0, "eval_episodes": 20}


def test_the_summary_and_table_say_what_the_seeds_did_worked_by_hand():
    results = {"schema": SCHEMA, "preset": "cartpole", "date": "2026-12-02 10:00 UTC",
               "machine": {"cpu": "Test CPU", "cores": 2}, "settings": {"overrides": ["seed=1"], "jobs": 1},
               "seeds": [1, 2, 3], "threshold": 475.0, "eval_episodes": 20, "eval_interval": 2500,
               "random_policy": {"episodes": 100, "mean": 22.5, "std": 11.0},
               "summaries": [_run(1, 1000, 10.0, 480.0, 476.0), _run(2, None, None, 300.0, 200.0),
                             _run(3, 3000, 30.0, 490.0, 470.0)]}
    assert seeds_summary(results) == {"seeds": 3, "reached": 2, "median_steps_to_threshold": 2000,
                                      "median_seconds_to_threshold": 20.0, "best_at_threshold": 2,
                                      "final_at_threshold": 1}
    table = seeds_table(results)
    assert table.startswith("# cartpole: 3 seeds (2026-12-02)\n\nMachine: Test CPU, 2 cores; 1 seed(s)")
    assert "| 2 | not reached | - | 300.0 (5000) | 200.0 ± 1.0 | 500 | 60 |" in table
    assert "A uniform-random policy on the same evaluation (100 episodes): 22.50 ± 11.00." in table
    assert "at or above 475: 2 of 3 seeds; final policy at or above it: 1 of 3." in table
    assert "Reached 475: 2 of 3 seeds, median at 2000 env steps, 20.0 s of training." in table


@pytest.mark.slow
def test_run_seeds_trains_each_seed_writes_the_schema_and_the_command_tabulates_finished_runs(tmp_path):
    sets = tiny_sets({"total_env_steps": 300, "replay.learning_starts": 100, "eval_interval": 300})
    results = run_seeds("cartpole", "1-2", sets, runs=tmp_path / "runs", random_episodes=3)
    assert results["schema"] == SCHEMA and results["preset"] == "cartpole" and results["seeds"] == [1, 2]
    assert results["threshold"] == 475.0 and results["eval_episodes"] == 2 and results["eval_interval"] == 300
    assert results["settings"]["overrides"] == sets and results["settings"]["config"]["total_env_steps"] == 300
    assert [s["seed"] for s in results["summaries"]] == [1, 2]
    assert all(s["env_steps"] >= 300 for s in results["summaries"])
    assert results["random_policy"]["episodes"] == 3 and set(results["machine"]) >= {"cpu", "cores"}
    path = write_results(results, tmp_path / "out")
    assert json.loads(path.read_text()) == json.loads(json.dumps(results))
    assert path.with_suffix(".md").read_text() == seeds_table(results)

    stamp = Path(results["summaries"][0]["run_dir"]).name.split("-", 1)[1]
    done = subprocess.run([TFA_NETS, "seeds", "cartpole", "--seeds", "1", "2", "--runs", str(tmp_path / "runs"),
                           "--from-runs", stamp, "--out", str(tmp_path / "table"), "--random-episodes", "0",
                           *[arg for s in sets for arg in ("--set", s)]],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    again = json.loads((tmp_path / "table" / "results.json").read_text())
    assert again["summaries"] == json.loads(json.dumps(results["summaries"]))
    assert again["random_policy"] is None and "| seed |" in (tmp_path / "table" / "results.md").read_text()


def test_tabulating_runs_that_do_not_exist_says_which_and_how_to_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="no finished run"):
        run_seeds("cartpole", "1", runs=tmp_path, from_runs="20260101-000000", random_episodes=0)
