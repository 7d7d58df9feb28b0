"""The checks every config section runs on creation: a value's type, and a condition with its message."""

from __future__ import annotations

import dataclasses


def require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


_TYPES = {"float": (int, float), "int": (int,), "str": (str,), "bool": (bool,), "dict": (dict,),
          "None": (type(None),)}


def check_types(section, prefix: str = "") -> None:
    """Every plain field holds a value of its annotated type (`float | None`: a number or None; a
    bool is not a number): `env.threshold='abc'` is refused here, not deep inside a run. `prefix`
    names the section in the message (`"agent."`)."""
    for f in dataclasses.fields(section):
        names = [name.strip() for name in str(f.type).split("|")]
        if not all(name in _TYPES for name in names):
            continue  # a config section: checked by its own class
        value = getattr(section, f.name)
        allowed = tuple(t for name in names for t in _TYPES[name])
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            raise ValueError(f"{prefix}{f.name} must be {' or '.join(names)}, got {value!r}.")
