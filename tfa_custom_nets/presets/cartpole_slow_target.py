"""cartpole_slow_target: the cartpole_reverb experiment with a hard target copy every 500 updates.

    python -m tfa_custom_nets.presets.cartpole_slow_target --seed 1   # or: tfa-nets train cartpole_slow_target

`cartpole_reverb` moves its target network a little after every update (Polyak, tau 0.005); this preset
keeps the target fixed for 500 updates and then copies the online network, as the DQN paper
does (every 10k updates there). `study.py` next to this file compares tau x period across seeds.
"""

import dataclasses
import sys

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
from tfa_custom_nets.training import load_preset

CARTPOLE = load_preset("cartpole_reverb")
CONFIG = dataclasses.replace(
    CARTPOLE, name="cartpole_slow_target",
    agent=dataclasses.replace(CARTPOLE.agent, target_update_tau=1.0, target_update_period=500),
)

if __name__ == "__main__":
    from tfa_custom_nets import cli

    sys.exit(cli.main(["train", "cartpole_slow_target", *sys.argv[1:]]))
