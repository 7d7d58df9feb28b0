"""A run's config as data: the trusted-config rule, and the copies that make a run directory portable.

    stored, used = portable_config(config, run_dir)     # config.json names sources/ copies of its files
    config = load_run_config(run_dir / "config.json")   # refused if it names code outside the rule

A run directory received from elsewhere is data: its config may name only the builders the package trusts
(`trusted_refs()`) and the copies in its own `sources/`; anything else needs --trust-config.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from tfa_custom_nets.training.config import TrainConfig, code_fields, from_dict, override
from tfa_custom_nets.training.presets import PRESETS_PACKAGE, load_preset, packaged_presets
from tfa_custom_nets.training.refs import file_ref

SOURCES = "sources"  # a run directory's copies of the files its config names


# Where a config names a function by file (`path/file.py:function`), the run directory keeps a copy of
# the file and `config.json` names the copy relative to the run directory: a moved directory (or one
# copied to another machine) still evaluates and resumes. Module references stay as they are. Every field
# whose metadata says it names code (`config.code_fields`) is handled, so a new one cannot be missed.

# What a received run's config may name in the package without --trust-config: a fixed set of builders,
# matched exactly. Never a loader (a function that imports a file or module named by another field).
TRUSTED_REFS = frozenset(f"tfa_custom_nets.models:{name}" for name in (
    "dense_q_model", "branching_q_model", "minatar_q_model", "nature_q_model", "dense_actor_model",
    "dense_critic_model", "dense_value_model"))


def trusted_refs() -> frozenset[str]:
    """`TRUSTED_REFS` and the builders the packaged presets name (`tfa_custom_nets.presets.<name>:<function>`):
    the code a received run may name without --trust-config."""
    named = {ref for name in packaged_presets() for ref in code_fields(load_preset(name)).values()
             if ref is not None and ref.startswith(f"{PRESETS_PACKAGE}.")}
    return TRUSTED_REFS | named


# gymnasium ids `module:Env` import `module` first; only the package itself (already imported) is trusted.
TRUSTED_ENV_MODULES = frozenset({"tfa_custom_nets", "tfa_custom_nets.envs"})


def _with_refs(config: TrainConfig, refs: dict) -> TrainConfig:
    sections = {}
    for (section, name), ref in refs.items():
        sections[section] = dataclasses.replace(sections.get(section, getattr(config, section)), **{name: ref})
    return dataclasses.replace(config, **sections)


def portable_config(config: TrainConfig, run_dir: Path) -> tuple[TrainConfig, TrainConfig]:
    """Copies the files `config` names into `run_dir/sources/`; returns `(stored, used)`: the config to
    write to `config.json` (copies named relative to the run directory) and the one the run uses (the
    copies by absolute path)."""
    stored, used = {}, {}
    for (section, name), ref in code_fields(config).items():
        parsed = file_ref(ref)
        if parsed is None:
            continue
        source = Path(parsed[0]).resolve()
        if not source.is_file():
            raise ValueError(f"{section}.{name}: no file {source}.")
        copy = run_dir / SOURCES / f"{source.parent.name}__{source.name}"
        copy.parent.mkdir(exist_ok=True)
        if source != copy.resolve():  # a launcher's learner re-prepares the directory it was given
            shutil.copyfile(source, copy)
        stored[section, name] = f"{SOURCES}/{copy.name}:{parsed[1]}"
        used[section, name] = f"{copy}:{parsed[1]}"
    return _with_refs(config, stored), _with_refs(config, used)


def load_run_config(path: str | Path, trust: bool = False) -> TrainConfig:
    """A `config.json` (a run's, or one copied elsewhere); file references relative to its folder.

    The config must be complete (every key of every section): a run's own config is what it ran with.
    A run directory is data: unless `trust`, its config may name code only in the run's own `sources/`
    (the copies a run makes of the files it was started with) or among `TRUSTED_REFS`. Anything else
    (another file, another module or function of the package, a gymnasium id `module:Env` that imports a
    module) is refused with a ValueError naming it, before anything is imported.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no config file {path} (expected a run directory's config.json).")
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not a run's config.json ({error}); restore it from the run.") from None
    config = from_dict(data, complete=True)
    refs, untrusted = {}, untrusted_refs(config, path.parent)
    for key, ref in code_fields(config).items():
        parsed = file_ref(ref)
        if parsed is not None:
            target = Path(parsed[0]) if Path(parsed[0]).is_absolute() else path.parent / parsed[0]
            refs[key] = f"{target.resolve()}:{parsed[1]}"
    if untrusted and not trust:
        raise ValueError(f"{path} names code outside its run directory's {SOURCES}/ and outside the builders "
                         f"tfa_custom_nets trusts: {'; '.join(untrusted)}. Loading it would run that code. If you "
                         "trust where this config came from, pass --trust-config.")
    return _with_refs(config, refs)


def untrusted_refs(config: TrainConfig, folder: Path) -> list[str]:
    """The fields of a config read from `folder` that name code the trust rule does not allow, as text."""
    sources, untrusted, trusted = (folder / SOURCES).resolve(), [], trusted_refs()
    for (section, name), ref in code_fields(config).items():
        if ref is None or ref in trusted:
            continue
        parsed = file_ref(ref)
        target = None if parsed is None else Path(parsed[0]) if Path(parsed[0]).is_absolute() else folder / parsed[0]
        if target is None or target.resolve().parent != sources:
            untrusted.append(f"{section}.{name} = {ref!r}")
    module, colon, _ = config.env.id.rpartition(":")
    if colon and module not in TRUSTED_ENV_MODULES:
        untrusted.append(f"env.id = {config.env.id!r} (gymnasium imports the module before the colon)")
    return untrusted


def load_config(ref: str, sets: list[str], trust: bool = False) -> TrainConfig:
    """A preset (name or experiment.py) or a run's `config.json` (see `load_run_config` for what it may
    name without `trust`), with `key=value` overrides."""
    if ref.endswith(".json"):
        if not Path(ref).is_file():
            raise ValueError(f"--config {ref}: no such file (expected a preset name, an experiment.py or a "
                             "config.json).")
        config = load_run_config(ref, trust=trust)
    else:
        config = load_preset(ref)
    return override(config, sets)
