"""Presets: `experiments/<name>/experiment.py` files that define `CONFIG`.

`load_preset("cartpole")` finds the file in the experiments folder (the one next
to the package in a source checkout, `./experiments`, or `$TFA_NETS_EXPERIMENTS`);
a path to any `.py` file that defines `CONFIG` works too.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from tfa_custom_nets.training.config import TrainConfig


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


def load_preset(name_or_path: str) -> TrainConfig:
    """The `CONFIG` of a preset, by name or file path."""
    path = preset_path(name_or_path)
    spec = importlib.util.spec_from_file_location(f"_tfa_nets_preset_{path.parent.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = getattr(module, "CONFIG", None)
    if not isinstance(config, TrainConfig):
        raise ValueError(f"{path} must define CONFIG = TrainConfig(...), found {type(config).__name__}.")
    return config
