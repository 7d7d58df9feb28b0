"""Every preset runs end to end on a tiny budget: env factory, Keras model, agent, replay, eval, saved policy."""

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec

from tests.conftest import HAS_REVERB
from tests.tiny import tiny_sets
from tfa_custom_nets.envs import action_mask_splitter
from tfa_custom_nets.training import (
    branch_spec,
    list_presets,
    load_preset,
    load_run_config,
    make_env,
    make_q_network,
    override,
    resolve_ref,
    train_eval,
)

TINY = tiny_sets({"total_env_steps": 120, "replay.learning_starts": 60, "replay.batch_size": 8, "replay.capacity": 1000,
                  "eval_interval": 120, "checkpoint_interval": 120})


def test_the_documented_presets_exist():
    assert {"cartpole", "cartpole_reverb", "cartpole_prioritized", "mountaincar", "minatar_breakout", "pong",
            "robot_arm_bdq", "robot_arm_joint", "reacher_bdq", "hopper_bdq", "acrobot", "lunarlander", "taxi",
            "robot_arm_masked", "pendulum_sac", "robot_arm_ppo"} <= set(list_presets())


@pytest.mark.slow
@pytest.mark.parametrize("name", list_presets())
def test_preset_trains_evaluates_and_saves_a_policy(name, tmp_path):
    preset = load_preset(name)
    short_episodes = {**preset.env.make_kwargs, "max_episode_steps": 50}  # the preset's env, episodes cut short
    on_policy = preset.agent.kind == "ppo"  # rollouts of 64 steps instead of the preset's
    config = override(preset, [*TINY, f"env.make_kwargs={short_episodes!r}", f"run_dir={str(tmp_path / name)!r}",
                               *(["update_every=64", "agent.ppo_epochs=1"] if on_policy else [])])
    if config.uses_reverb and not HAS_REVERB:  # the modern stack: env, model and agent on the in-memory replay
        config = override(config, ["replay.backend='memory'", "replay.prioritized=False"])
    env = make_env(config.env)
    obs_spec, action_spec = tensor_spec.from_spec(env.observation_spec()), tensor_spec.from_spec(env.action_spec())
    model_spec = branch_spec(env, action_spec)
    env.close()
    model_obs_spec = action_mask_splitter(obs_spec)[0] if config.env.action_mask else obs_spec  # the mask: the agent's
    model = resolve_ref(config.network.model)(model_obs_spec, model_spec, **config.network.kwargs)
    # The model keeps the env's dtype at its input: pixels stay uint8 and boards bool in the replay.
    assert model.inputs[0].dtype == model_obs_spec.dtype or model_obs_spec.dtype == tf.float32
    if config.agent.kind in ("dqn", "ddqn", "bdq"):  # actor-critic agents' networks: built inside train_eval below
        make_q_network(config, obs_spec, action_spec, model_spec)  # the adapter for the agent kind accepts it

    summary = train_eval(config)
    steps = summary["env_steps"]  # batched envs collect a batch at a time (two when one holds resets)
    if on_policy:  # whole rollouts, one update each
        assert 128 <= steps < 128 + 2 * config.num_envs and summary["updates"] == 2
    else:
        assert 120 <= steps < 120 + 2 * config.num_envs and (config.num_envs > 1 or steps == 120)
        assert summary["updates"] == (steps - 60) // config.update_every
    assert np.isfinite(summary["eval_mean"])
    stored = json.loads((tmp_path / name / "config.json").read_text())
    for section, field in (("env", "make"), ("network", "model"), ("network", "critic_model")):
        ref = getattr(getattr(config, section), field)
        # A packaged preset names its builders by module (an installed package has no files to point at) ...
        assert ref is None or (".py:" not in ref and ref.startswith("tfa_custom_nets.")), ref
        assert stored[section][field] == ref
    # ... and a run of it is trusted as it is: those builders are the package's own, named exactly.
    assert load_run_config(tmp_path / name / "config.json").to_dict() == json.loads(json.dumps(config.to_dict()))
    policy = tf.saved_model.load(str(tmp_path / name / "policy"))
    assert policy.get_initial_state(1) == ()


def test_a_preset_folder_in_the_current_directory_adds_presets_but_never_replaces_a_packaged_one(
        tmp_path, monkeypatch):
    import subprocess
    import sys

    from tfa_custom_nets.training import preset_files

    for name in ("cartpole", "mine"):
        (tmp_path / "experiments" / name).mkdir(parents=True)
        (tmp_path / "experiments" / name / "experiment.py").write_text(
            "from tfa_custom_nets.training import TrainConfig\nCONFIG = TrainConfig(name='from_cwd')\n")
    monkeypatch.chdir(tmp_path)
    files = preset_files()
    assert files["cartpole"] == "tfa_custom_nets.presets.cartpole"
    assert files["mine"] == tmp_path / "experiments" / "mine" / "experiment.py"
    assert load_preset("cartpole").name == "cartpole" and load_preset("mine").name == "from_cwd"
    assert load_preset(str(tmp_path / "experiments" / "cartpole" / "experiment.py")).name == "from_cwd"  # a path

    listed = subprocess.run([str(Path(sys.executable).with_name("tfa-nets")), "presets"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120).stdout.splitlines()
    assert any(line.split() == ["cartpole", "packaged:", "tfa_custom_nets.presets.cartpole"] for line in listed)
    assert any(line.split() == ["mine", str(files["mine"])] for line in listed)
