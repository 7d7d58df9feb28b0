import json

import pytest

from tfa_custom_nets.training import TrainConfig, from_dict, load_preset, override


def test_override_sets_nested_values_with_types():
    config = override(TrainConfig(), ["agent.learning_rate=3e-4", "agent.gradient_clipping=None",
                                      "network.kwargs={'hidden_units': [32]}", "seed=7", "agent.gamma=1",
                                      "run_dir=/tmp/x"])
    assert config.agent.learning_rate == 3e-4 and config.agent.gradient_clipping is None
    assert config.network.kwargs == {"hidden_units": [32]} and config.seed == 7
    assert config.agent.gamma == 1.0 and isinstance(config.agent.gamma, float)
    assert config.run_dir == "/tmp/x"


@pytest.mark.parametrize("assignment, message", [
    ("agent.learning_rat=1", r"unknown key; expected one of \[.*'learning_rate'"),
    ("seed=abc", r"expected a int like 0, got str"),
    ("nope.x=1", r"no config section 'nope'"),
    ("seed", r"expects key=value"),
])
def test_override_refuses_bad_assignments(assignment, message):
    with pytest.raises(ValueError, match=message):
        override(TrainConfig(), [assignment])


@pytest.mark.parametrize("assignment, message", [
    ("agent.gamma=1.5", r"gamma must be in \[0, 1\], got 1.5"),
    ("agent.target_update_tau=0.0", r"target_update_tau must be in \(0, 1\]"),
    ("agent.target_update_tau=1.5", r"target_update_tau must be in \(0, 1\]"),
    ("replay.capacity=-5", r"capacity must be >= 1, got -5"),
    ("replay.batch_size=2000", r"learning_starts \(1000\) must be >= replay.batch_size \(2000\)"),
    ("agent.kind='a2c'", r"agent.kind must be one of \('dqn', 'ddqn', 'bdq', 'sac', 'ppo', 'c51', 'td3', 'ddpg'\), "
                         r"got 'a2c'"),
    ("agent.kind='ppo'", r"agent.kind='ppo' needs network.critic_model \(a V\(s\) builder, e.g. "
                         r"'tfa_custom_nets.models:dense_value_model'\)"),
    ("agent.exploration='boltzmann'", r"agent.exploration must be 'epsilon_greedy' or 'ez_greedy'"),
    ("agent.ez_max_repeat=0", r"agent.ez_max_repeat >= 1, got 2.0 and 0"),
    ("update_every=0", r"update_every must be an int >= 1"),
    ("agent.learning_rate=-1.0", r"learning_rate must be > 0"),
])
def test_bad_config_values_are_refused_before_anything_starts(assignment, message):
    with pytest.raises(ValueError, match=message):
        override(TrainConfig(), [assignment])


def test_config_round_trips_through_json():
    config = override(TrainConfig(), ["agent.kind=ddqn", "env.make_kwargs={'max_episode_steps': 50}"])
    assert from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_from_dict_refuses_unknown_keys():
    with pytest.raises(ValueError, match=r"unknown TrainConfig keys \['bogus'\]"):
        from_dict({"bogus": 1})


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown preset 'nope'; known presets: .*cartpole"):
        load_preset("nope")


def test_learning_rate_decays_linearly_to_its_end_value_over_the_runs_updates():
    import tensorflow as tf
    from tf_agents.specs import tensor_spec

    from tfa_custom_nets.training import make_agent, make_env, override

    # (1000 - 200) // 4 = 200 updates: lr 1e-3 at update 0, 5.5e-4 at 100, 1e-4 from 200 on
    config = override(TrainConfig(), ["agent.learning_rate=1e-3", "agent.learning_rate_end=1e-4",
                                      "total_env_steps=1000", "replay.learning_starts=200", "replay.batch_size=32",
                                      "update_every=4"])
    env = make_env(config.env, seed=0)
    agent, _ = make_agent(config, tensor_spec.from_spec(env.time_step_spec()), tensor_spec.from_spec(env.action_spec()),
                          tf.Variable(0, dtype=tf.int64))
    schedule = agent._optimizer._learning_rate  # the schedule the optimizer evaluates at its step count
    assert [float(schedule(step)) for step in (0, 100, 200, 300)] == pytest.approx([1e-3, 5.5e-4, 1e-4, 1e-4])
    with pytest.raises(ValueError, match=r"learning_rate_end must be in \[0, learning_rate=0.001\]"):
        override(config, ["agent.learning_rate_end=0.01"])


def test_derived_values_have_one_definition():
    config = override(TrainConfig(), ["total_env_steps=1000", "replay.learning_starts=200", "replay.batch_size=32",
                                      "update_every=4", "seed=7"])
    assert config.total_updates == 200
    assert [config.updates_due(s) for s in (0, 199, 203, 204, 1000)] == [0, 0, 0, 1, 200]
    assert config.env_steps_for(3) == 212 and config.env_steps_for(10**6) == 1000
    assert config.samples_per_insert == 8.0
    # A distributed server waits for the warm-up and always limits; a single process counts its own updates.
    assert config.reverb_table_limits(distributed=True) == (200, 8.0)
    assert config.reverb_table_limits(distributed=False) == (32, None)
    limited = override(config, ["replay.samples_per_insert=2.0"])
    assert limited.reverb_table_limits(distributed=True) == (200, 2.0)
    assert limited.reverb_table_limits(distributed=False) == (32, 2.0)
    seeds = [config.train_env_seed(0), config.train_env_seed(1), config.actor_seed(0), config.actor_seed(0, 1),
             config.eval_seed(0), config.eval_seed(1)]
    assert seeds[0] == 7 and len(set(seeds)) == len(seeds)
    assert config.eval_seed(1) - config.eval_seed(0) == config.eval_episodes


@pytest.mark.parametrize("sets, uses_reverb", [
    ([], False), (["replay.prioritized=True"], True), (["replay.backend='reverb'"], True),
    (["replay.samples_per_insert=4.0"], True), (["replay.backend='memory'"], False)])
def test_a_single_process_run_uses_reverb_only_when_it_needs_it(sets, uses_reverb):
    assert override(TrainConfig(), sets).uses_reverb is uses_reverb


def test_memory_backend_refuses_what_needs_reverb():
    with pytest.raises(ValueError, match="prioritized replay and samples_per_insert need Reverb"):
        override(TrainConfig(), ["replay.backend='memory'", "replay.prioritized=True"])


@pytest.mark.parametrize("values, message", [({"seed": -1}, r"seed must be an int >= 0, got -1"),
                                             ({"seed": "3"}, r"seed must be int, got '3'"),
                                             ({"num_envs": 0}, r"num_envs must be an int >= 1")])
def test_typed_values_are_checked_like_any_config(values, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig().replace(**values)


@pytest.mark.parametrize("assignment, message", [
    ("env.threshold=abc", r"env.threshold must be float or None, got 'abc'"),
    ("agent.learning_rate_end=abc", r"agent.learning_rate_end must be float or None, got 'abc'"),
    ("replay.samples_per_insert=True", r"replay.samples_per_insert must be float or None, got True"),
    ("network.model=None", r"network.model must be str, got None"),
    ("run_dir=[1]", r"run_dir must be str or None, got \[1\]"),
    ("env.make=3", r"env.make must be str or None, got 3"),
])
def test_fields_that_default_to_none_take_only_their_type(assignment, message):
    with pytest.raises(ValueError, match=message):
        override(TrainConfig(), [assignment])
    from tfa_custom_nets.training import EnvConfig

    with pytest.raises(ValueError, match=r"env.threshold must be a finite number or None, got inf"):
        EnvConfig(threshold=float("inf"))
