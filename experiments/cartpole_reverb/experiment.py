"""cartpole_reverb: CartPole-v1 as TF-Agents' DQN tutorial runs it: one env, one policy call per
step, a Reverb replay table. The seeds' comparison against the tutorial loop uses it; `cartpole`
is the same model on the fast in-memory pipeline.

    python experiments/cartpole_reverb/experiment.py --seed 1     # or: tfa-nets train cartpole_reverb --seed 1

The model is written the way Keras DQN tutorials write it: one functional model,
a dense trunk shared by every action's Q-value. Deviations from Mnih et al. (2015)
are the usual CartPole ones, named in the comments.
"""

import sys
from pathlib import Path

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
import tensorflow as tf

from tfa_custom_nets.training import AgentConfig, EnvConfig, NetworkConfig, ReplayConfig, TrainConfig


def build_q_model(observation_spec, action_spec, hidden_units=(256, 256)):
    """observation -> Dense -> Dense (the shared trunk) -> one Q-value per action."""
    inputs = tf.keras.Input(shape=observation_spec.shape, name="observation")
    x = inputs
    for units in hidden_units:
        x = tf.keras.layers.Dense(units, activation="relu")(x)
    q_values = tf.keras.layers.Dense(int(action_spec.maximum) + 1, name="q_values")(x)
    return tf.keras.Model(inputs, q_values)


CONFIG = TrainConfig(
    name="cartpole_reverb",
    env=EnvConfig(id="CartPole-v1"),  # threshold 475 from the env's spec
    network=NetworkConfig(model=f"{Path(__file__).resolve()}:build_q_model",
                          kwargs={"hidden_units": [256, 256]}),
    agent=AgentConfig(
        kind="ddqn",                 # double-Q targets (van Hasselt et al. 2016); paper: DQN
        learning_rate=5e-4,          # Adam; paper: RMSProp 2.5e-4
        gamma=0.99,
        loss="mse",                  # paper: error clipped to [-1, 1] (Huber)
        gradient_clipping=10.0,
        target_update_period=1,      # every update ...
        target_update_tau=0.005,     # ... a Polyak step; paper: hard copy every 10k updates
        epsilon_start=1.0,
        epsilon_end=0.05,            # paper: 0.1
        epsilon_decay_steps=5_000,   # paper: 1M frames
    ),
    replay=ReplayConfig(capacity=50_000, batch_size=128, learning_starts=1_000,  # paper: 1M, 32, 50k
                        backend="reverb"),  # an in-process Reverb server on a local port (the point of this preset)
    total_env_steps=50_000,
    update_every=1,                 # paper: one update per 4 env steps
    eval_interval=2_500,
    eval_episodes=20,
    checkpoint_interval=10_000,
)

if __name__ == "__main__":
    from tfa_custom_nets import cli

    sys.exit(cli.main(["train", __file__, *sys.argv[1:]]))
