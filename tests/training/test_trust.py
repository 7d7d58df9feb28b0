"""The trust rule: a received run's config.json names code only in its own sources/ or among the
package's fixed builders; every field that names code is checked, copied and made relative; the
config is complete."""

import json
from pathlib import Path

import pytest

from tfa_custom_nets.training import TRUSTED_REFS, TrainConfig, load_run_config, override, portable_config

BASE = TrainConfig().to_dict()


def write_config(folder: Path, edit: dict) -> Path:
    data = json.loads(json.dumps(BASE))
    for key, value in edit.items():
        section, name = key.split(".")
        data[section][name] = value
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(data))
    return folder / "config.json"


@pytest.mark.parametrize("field, ref", [
    ("network.critic_model", "outside.py:make_critic"),                      # every code field, not only two
    ("network.model", "/tmp/elsewhere/model.py:build"),
    ("network.model", "sources/../outside.py:build"),                          # out of sources/ by a dot-dot
    ("env.make", "tfa_custom_nets.training.refs:load_module_from_file"),  # a loader, even the package's
    ("env.make", "tfa_custom_nets.training:resolve_ref"),
    ("network.model", "tfa_custom_nets_evil.models:dense_q_model"),          # look-alike module names
    ("network.model", "tfa_custom_nets.models_x:dense_q_model"),
    ("network.model", "tfa_custom_nets.models:dense_q_model_x"),
    ("network.critic_model", "os:system"),
    ("env.id", "evil_module:Env-v0"),                                        # gymnasium imports the module
    ("env.id", "tfa_custom_nets.evil:Env-v0"),
    ("env.id", "tfa_custom_nets:x:Env-v0"),
])
def test_code_outside_the_run_and_the_trusted_builders_is_refused(field, ref, tmp_path):
    path = write_config(tmp_path / "run", {field: ref})
    with pytest.raises(ValueError, match="names code outside") as caught:
        load_run_config(path)
    assert f"{field} = {ref!r}" in str(caught.value) and "--trust-config" in str(caught.value)
    assert load_run_config(path, trust=True) is not None  # the user's say-so loads it


@pytest.mark.parametrize("field, ref", [
    *[("network.model", ref) for ref in sorted(TRUSTED_REFS)],
    ("network.critic_model", "tfa_custom_nets.models:dense_critic_model"),
    ("env.make", "sources/factory.py:make_env"),
    ("env.id", "tfa_custom_nets/RobotArm-v0"),
])
def test_the_runs_own_sources_and_the_named_builders_load_without_trust(field, ref, tmp_path):
    path = write_config(tmp_path / "run", {field: ref})
    (tmp_path / "run" / "sources").mkdir()
    (tmp_path / "run" / "sources" / "factory.py").write_text("")
    config = load_run_config(path)
    section, name = field.split(".")
    value = getattr(getattr(config, section), name)
    assert value.endswith(ref.rpartition(":")[2])


def test_every_builder_in_the_allow_list_exists_and_none_is_a_loader():
    import importlib

    for ref in TRUSTED_REFS:
        module, _, name = ref.partition(":")
        assert module == "tfa_custom_nets.models" and callable(getattr(importlib.import_module(module), name))


def test_a_critic_model_file_is_copied_into_sources_and_named_relative(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "critic.py").write_text("def build(o, a):\n    return None\n")
    (tmp_path / "mine" / "actor.py").write_text("def build(o, a):\n    return None\n")
    config = override(TrainConfig(), [f"network.model='{tmp_path / 'mine' / 'actor.py'}:build'",
                                      f"network.critic_model='{tmp_path / 'mine' / 'critic.py'}:build'"])
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    stored, used = portable_config(config, run_dir)
    assert stored.network.critic_model == "sources/mine__critic.py:build"
    assert stored.network.model == "sources/mine__actor.py:build"
    assert used.network.critic_model == f"{run_dir / 'sources' / 'mine__critic.py'}:build"
    assert (run_dir / "sources" / "mine__critic.py").read_text().startswith("def build")
    (run_dir / "config.json").write_text(json.dumps(stored.to_dict()))
    assert load_run_config(run_dir / "config.json").network.critic_model == used.network.critic_model


@pytest.mark.parametrize("drop", ["total_env_steps", "agent.learning_rate", "replay.capacity", "env.threshold"])
def test_a_run_config_missing_a_key_is_refused_not_filled_with_a_default(drop, tmp_path):
    data = json.loads(json.dumps(BASE))
    section, _, name = drop.rpartition(".")
    del (data[section] if section else data)[name]
    (tmp_path / "config.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match=f"has no value for {drop}: a run's config.json holds every setting"):
        load_run_config(tmp_path / "config.json")


def test_a_config_json_that_is_not_json_says_so(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="is not a run's config.json"):
        load_run_config(tmp_path / "config.json")
