"""Presets: the packaged ones (`tfa_custom_nets.presets.<name>` modules defining `CONFIG`) and a user's own
(`<folder>/<name>/experiment.py` files defining `CONFIG`).

`load_preset("cartpole")` takes the packaged preset of that name; user folders (`$TFA_NETS_EXPERIMENTS`, then
`./experiments`) add names but never replace a packaged one. A path to any `.py` file that defines `CONFIG`
loads that file. `tfa-nets presets` lists each name with where it comes from.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from pathlib import Path

from tfa_custom_nets.training.config import TrainConfig
from tfa_custom_nets.training.refs import load_module_from_file

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


def load_preset(name_or_path: str) -> TrainConfig:
    """The `CONFIG` of a preset, by name or file path."""
    source = preset_source(name_or_path)
    module = importlib.import_module(source) if isinstance(source, str) else load_module_from_file(source)
    config = getattr(module, "CONFIG", None)
    if not isinstance(config, TrainConfig):
        raise ValueError(f"{source} must define CONFIG = TrainConfig(...), found {type(config).__name__}.")
    return config
