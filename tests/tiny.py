"""The one definition of a tiny run: the overrides that shrink any preset's run to seconds.

    from tests.tiny import cli_sets, tiny_sets

    override(load_preset("cartpole"), tiny_sets())                          # the tiny run
    override(load_preset("cartpole"), tiny_sets({"total_env_steps": 3000}))  # one value changed
    tiny_sets({"replay.capacity": None})                                     # None: the preset's own value
    subprocess.run(["tfa-nets", "train", "cartpole", *cli_sets(tiny_sets())])
"""

TINY_RUN = {"total_env_steps": 600, "replay.learning_starts": 200, "replay.batch_size": 16, "replay.capacity": 2000,
            "eval_interval": 300, "eval_episodes": 2, "checkpoint_interval": 300, "progress": False}


def tiny_sets(changes: dict | None = None) -> list[str]:
    """TINY_RUN with `changes` applied, as the `key=value` strings `override`, `--set` and `run_seeds` take."""
    values = {**TINY_RUN, **(changes or {})}
    return [f"{key}={value!r}" for key, value in values.items() if value is not None]


def cli_sets(sets: list[str]) -> list[str]:
    """`--set key=value` pairs for a command line."""
    return [arg for assignment in sets for arg in ("--set", assignment)]
