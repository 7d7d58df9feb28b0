"""References to code: `module:function` or `path/to/file.py:function`, resolved to the function.

    model_fn = resolve_ref("tfa_custom_nets.models:dense_q_model", "network.model")

A file is imported once per process (keyed by its resolved path). Which references a run directory's config may
name is the run directory's rule (`run_config.py`); this module only resolves them.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable


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



def file_ref(ref: str | None) -> tuple[str, str] | None:
    """`(file, function)` of a `file.py:function` reference; None for a module reference or None."""
    if ref is None:
        return None
    target, _, attr = ref.rpartition(":")
    return (target, attr) if target.endswith(".py") else None
