"""cartpole_reverb: CartPole-v1 as TF-Agents' DQN tutorial runs it: one env, one policy call per
step, a Reverb replay table. The seeds' comparison against the tutorial loop, the pipeline bench
and the soak use it; `cartpole` is the same model on the fast in-memory pipeline.

    python -m tfa_custom_nets.presets.cartpole_reverb --seed 1     # or: tfa-nets train cartpole_reverb --seed 1

The model and the Double DQN agent are `cartpole`'s; what differs (the settings this preset was
tuned with before the fast pipeline existed) is named below. Deviations from Mnih et al. (2015)
are in `tfa_custom_nets/presets/cartpole.py`.
"""

import dataclasses
import sys

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
from tfa_custom_nets.training import load_preset

CARTPOLE = load_preset("cartpole")
CONFIG = dataclasses.replace(
    CARTPOLE, name="cartpole_reverb",
    num_envs=1,                              # cartpole: 16 envs stepped as one batch
    agent=dataclasses.replace(
        CARTPOLE.agent,
        learning_rate=5e-4,                  # cartpole: 2e-3 ...
        learning_rate_end=None,              # ... falling to 0 at the last update
        n_step_update=1,                     # cartpole: 3-step returns
        target_update_tau=0.005,             # cartpole: 0.02
        epsilon_end=0.05,                    # cartpole: 0.01 ...
        epsilon_decay_steps=5_000),          # ... over 10k env steps
    # An in-process Reverb server on a local port (the point of this preset); cartpole: in memory.
    replay=dataclasses.replace(CARTPOLE.replay, backend="reverb"),
    total_env_steps=50_000,                  # cartpole: 30k
)

if __name__ == "__main__":
    from tfa_custom_nets import cli

    sys.exit(cli.main(["train", "cartpole_reverb", *sys.argv[1:]]))
