"""Presets: `experiments/<name>/experiment.py` files that define `CONFIG`.

`load_preset("cartpole")` finds the file in the experiments folder (the one next
to the package in a source checkout, `./experiments`, or `$TFA_NETS_EXPERIMENTS`);
a path to any `.py` file that defines `CONFIG` works too.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import os
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable

from tfa_custom_nets.training.config import TrainConfig, from_dict

SOURCES = "sources"  # a run directory's copies of the files its config names


def experiments_dirs() -> list[Path]:
    dirs = [Path(os.environ["TFA_NETS_EXPERIMENTS"])] if "TFA_NETS_EXPERIMENTS" in os.environ else []
    dirs += [Path.cwd() / "experiments", Path(__file__).resolve().parents[2] / "experiments"]
    return [d for d in dict.fromkeys(dirs) if d.is_dir()]


def list_presets() -> list[str]:
    return sorted({p.parent.name for d in experiments_dirs() for p in d.glob("*/experiment.py")})


def preset_path(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.suffix == ".py":
        if not path.is_file():
            raise ValueError(f"no preset file {path}.")
        return path.resolve()
    for directory in experiments_dirs():
        candidate = directory / name_or_path / "experiment.py"
        if candidate.is_file():
            return candidate.resolve()
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
    path = preset_path(name_or_path)
    module = load_module_from_file(path)
    config = getattr(module, "CONFIG", None)
    if not isinstance(config, TrainConfig):
        raise ValueError(f"{path} must define CONFIG = TrainConfig(...), found {type(config).__name__}.")
    return config


# Where a config names a function by file (`path/file.py:function`), the run directory keeps a copy of
# the file and `config.json` names the copy relative to the run directory: a moved directory (or one
# copied to another machine) still evaluates and resumes. Module references stay as they are.
_REF_FIELDS = (("env", "make"), ("network", "model"))


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
    for section, name in _REF_FIELDS:
        parsed = _file_ref(getattr(getattr(config, section), name))
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


def load_run_config(path: str | Path) -> TrainConfig:
    """A `config.json` (a run's, or one copied elsewhere); file references relative to its folder."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no config file {path} (expected a run directory's config.json).")
    config = from_dict(json.loads(path.read_text()))
    refs = {}
    for section, name in _REF_FIELDS:
        parsed = _file_ref(getattr(getattr(config, section), name))
        if parsed is not None and not Path(parsed[0]).is_absolute():
            refs[section, name] = f"{(path.parent / parsed[0]).resolve()}:{parsed[1]}"
    return _with_refs(config, refs)
