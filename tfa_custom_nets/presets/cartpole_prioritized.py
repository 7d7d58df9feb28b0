"""cartpole_prioritized: the cartpole_reverb experiment with prioritized replay on Reverb.

    python -m tfa_custom_nets.presets.cartpole_prioritized --seed 1   # or: tfa-nets train cartpole_prioritized

Everything is `cartpole_reverb`'s (model, agent, schedule) except the replay: items are sampled in
proportion to `(|TD error| + 1e-6) ** 0.6`, the priorities are written back to Reverb after
every update, and each sample's loss is weighted by `(N * P(i)) ** -beta / max`, with beta
annealed from 0.4 to 1 over the run (Schaul et al. 2016, proportional variant).
"""

import dataclasses
import sys

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
from tfa_custom_nets.training import load_preset

CARTPOLE = load_preset("cartpole_reverb")
CONFIG = dataclasses.replace(
    CARTPOLE, name="cartpole_prioritized",
    replay=dataclasses.replace(CARTPOLE.replay, prioritized=True, priority_exponent=0.6,  # paper: alpha .6
                               importance_beta_start=0.4),                               # paper: beta .4 -> 1
)

if __name__ == "__main__":
    from tfa_custom_nets import cli

    sys.exit(cli.main(["train", "cartpole_prioritized", *sys.argv[1:]]))
