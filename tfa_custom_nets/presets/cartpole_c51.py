"""cartpole_c51: CartPole-v1 by TF-Agents' C51 (a distribution of returns per action), on the fast pipeline.

    python -m tfa_custom_nets.presets.cartpole_c51 --seed 1     # or: tfa-nets train cartpole_c51 --seed 1

The model is `cartpole`'s shared 256x256 trunk with a head of 51 logits per action (`KerasCategoricalQNetwork`
reads `[B, actions * atoms]`), the atoms spread over [0, 100] (CartPole's rewards are +1 a step: with gamma 0.99
no return exceeds 100). TF-Agents' `CategoricalDqnAgent` projects the n-step target distribution onto the atoms
(Bellemare et al. 2017) and acts greedily on the distributions' means. The pipeline and every other setting are
`cartpole`'s: 16 envs stepped as one batch, 3-step returns, a Polyak step of 0.02 every update, a learning rate
from 2e-3 falling linearly to 0, epsilon to 0.01 over 10k env steps, 30k env steps.
"""

import sys

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
import tensorflow as tf

from tfa_custom_nets.training import AgentConfig, EnvConfig, NetworkConfig, ReplayConfig, TrainConfig


def c51_model(observation_spec, action_spec, num_atoms=51, hidden_units=(256, 256)):
    """observation -> dense trunk (ReLU) -> `num_atoms` logits per action, action-major ([B, actions * atoms])."""
    inputs = tf.keras.Input(shape=observation_spec.shape, name="observation")
    x = inputs
    for units in hidden_units:
        x = tf.keras.layers.Dense(units, activation="relu")(x)
    num_actions = int(action_spec.maximum) - int(action_spec.minimum) + 1
    return tf.keras.Model(inputs, tf.keras.layers.Dense(num_actions * num_atoms, name="logits")(x))


CONFIG = TrainConfig(
    name="cartpole_c51",
    env=EnvConfig(id="CartPole-v1"),  # threshold 475 from the env's spec
    network=NetworkConfig(model="tfa_custom_nets.presets.cartpole_c51:c51_model",
                          kwargs={"hidden_units": [256, 256]}),
    agent=AgentConfig(
        kind="c51",
        learning_rate=2e-3,
        learning_rate_end=0.0,
        gamma=0.99,
        n_step_update=3,
        gradient_clipping=10.0,
        target_update_period=1,
        target_update_tau=0.02,
        epsilon_start=1.0,
        epsilon_end=0.01,
        epsilon_decay_steps=10_000,
        options={"num_atoms": 51, "min_q_value": 0.0, "max_q_value": 100.0},
    ),
    replay=ReplayConfig(capacity=50_000, batch_size=128, learning_starts=1_000),  # in memory
    total_env_steps=30_000,
    num_envs=16,
    update_every=1,
    eval_interval=2_500,
    eval_episodes=20,
    checkpoint_interval=10_000,
)

if __name__ == "__main__":
    from tfa_custom_nets import cli

    sys.exit(cli.main(["train", "cartpole_c51", *sys.argv[1:]]))
