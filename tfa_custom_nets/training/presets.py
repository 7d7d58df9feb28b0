"""Presets: the packaged ones (`tfa_custom_nets.presets.<name>` modules defining `CONFIG`) and a user's own
(`<folder>/<name>/experiment.py` files defining `CONFIG`).

`load_preset("cartpole")` takes the packaged preset of that name; user folders (`$TFA_NETS_EXPERIMENTS`, then
`./experiments`) add names but never replace a packaged one. A path to any `.py` file that defines `CONFIG`
loads that file. `tfa-nets presets` lists each name with where it comes from.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import os
import pkgutil
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable

from tfa_custom_nets.training.config import TrainConfig, code_fields, from_dict

SOURCES = "sources"  # a run directory's copies of the files its config names
PRESETS_PACKAGE = "tfa_custom_nets.presets"


def packaged_presets() -> list[str]:
    """The names of the presets that ship inside the package."""
    package = importlib.import_module(PRESETS_PACKAGE)
    return sorted(info.name for info in pkgutil.iter_modules(package.__path__) if not info.name.startswith("_"))


def experiments_dirs() -> list[Path]:
    """The user folders searched for `<name>/experiment.py` presets: `$TFA_NETS_EXPERIMENTS`, `./experiments`."""
    dirs = [Path(os.environ["TFA_NETS_EXPERIMENTS"])] if "TFA_NETS_EXPERIMENTS" in os.environ else []
    dirs.append(Path.cwd() / "experiments")
    return [d for d in dict.fromkeys(d.resolve() for d in dirs) if d.is_dir()]


def preset_files() -> dict[str, str | Path]:
    """Each preset's name and where it loads from: the packaged module's name, or a user folder's file."""
    found: dict[str, str | Path] = {name: f"{PRESETS_PACKAGE}.{name}" for name in packaged_presets()}
    for directory in experiments_dirs():
        for path in sorted(directory.glob("*/experiment.py")):
            found.setdefault(path.parent.name, path)
    return dict(sorted(found.items()))


def list_presets() -> list[str]:
    return list(preset_files())


def preset_source(name_or_path: str) -> str | Path:
    """The module name of a packaged preset, or the resolved path of a user's preset file."""
    path = Path(name_or_path)
    if path.suffix == ".py":
        if not path.is_file():
            raise ValueError(f"no preset file {path}.")
        return path.resolve()
    found = preset_files().get(name_or_path)
    if found is not None:
        return found
    raise ValueError(f"unknown preset {name_or_path!r}; known presets: {', '.join(list_presets()) or 'none'} "
                     "(or give a path to an experiment.py).")


def load_module_from_file(path: str | Path) -> ModuleType:
    """Imports a `.py` file once per process, keyed by its resolved path.

    A preset names its own file as the model's module, so the CLI's preset load and
    the model lookup share the one module instead of running the file twice.
    """
    path = Path(path).resolve()
    name = "_tfa_nets_file_" + re.sub(r"\W", "_", str(path))
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return module


def resolve_ref(ref: str, what: str = "reference") -> Callable:
    """`module:function` or `path/to/file.py:function` -> the function; `what` names the field in errors."""
    target, sep, attr = ref.rpartition(":")
    if not sep or not target or not attr:
        raise ValueError(f"{what} must be 'module:function' or 'file.py:function', got {ref!r}.")
    if target.endswith(".py"):
        if not Path(target).is_file():
            raise ValueError(f"{what}: no file {target} (from {ref!r}).")
        module = load_module_from_file(target)
    else:
        module = importlib.import_module(target)
    if not hasattr(module, attr):
        raise ValueError(f"{what}: {target} has no function {attr!r} (from {ref!r}).")
    return getattr(module, attr)


def load_preset(name_or_path: str) -> TrainConfig:
    """The `CONFIG` of a preset, by name or file path."""
    source = preset_source(name_or_path)
    module = importlib.import_module(source) if isinstance(source, str) else load_module_from_file(source)
    config = getattr(module, "CONFIG", None)
    if not isinstance(config, TrainConfig):
        raise ValueError(f"{source} must define CONFIG = TrainConfig(...), found {type(config).__name__}.")
    return config


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


def _file_ref(ref: str | None) -> tuple[str, str] | None:
    if ref is None:
        return None
    target, _, attr = ref.rpartition(":")
    return (target, attr) if target.endswith(".py") else None


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
        parsed = _file_ref(ref)
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
        parsed = _file_ref(ref)
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
        parsed = _file_ref(ref)
        target = None if parsed is None else Path(parsed[0]) if Path(parsed[0]).is_absolute() else folder / parsed[0]
        if target is None or target.resolve().parent != sources:
            untrusted.append(f"{section}.{name} = {ref!r}")
    module, colon, _ = config.env.id.rpartition(":")
    if colon and module not in TRUSTED_ENV_MODULES:
        untrusted.append(f"env.id = {config.env.id!r} (gymnasium imports the module before the colon)")
    return untrusted
