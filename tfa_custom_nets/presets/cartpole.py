"""cartpole: CartPole-v1 with a shared-trunk Keras model through TF-Agents' Double DQN, on the fast
pipeline. The default experiment (`make train`): about a minute on 2 cores, no server, no port.

    python -m tfa_custom_nets.presets.cartpole --seed 1     # or: tfa-nets train cartpole --seed 1

The model is written the way Keras DQN tutorials write it: one functional model, a dense trunk
shared by every action's Q-value. The pipeline: 16 CartPole envs stepped as one batch (one policy
call per batch), the in-memory replay sampled inside the compiled update, each iteration's 16
updates (one per env step) in one compiled call on a second thread. Deviations from Mnih et al.
(2015) are named in the comments; `cartpole_reverb` is the same model on one env and Reverb.
"""

import sys

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
import tensorflow as tf

from tfa_custom_nets.training import AgentConfig, EnvConfig, NetworkConfig, ReplayConfig, TrainConfig


def build_q_model(observation_spec, action_spec, hidden_units=(256, 256), layer_norm=False):
    """observation -> Dense -> Dense (the shared trunk) -> one Q-value per action. `layer_norm`: each
    hidden layer normalised before its ReLU (Gallici et al. 2024: it steadies TD learning)."""
    inputs = tf.keras.Input(shape=observation_spec.shape, name="observation")
    x = inputs
    for units in hidden_units:
        if layer_norm:
            x = tf.keras.layers.LayerNormalization()(tf.keras.layers.Dense(units)(x))
            x = tf.keras.layers.Activation("relu")(x)
        else:
            x = tf.keras.layers.Dense(units, activation="relu")(x)
    q_values = tf.keras.layers.Dense(int(action_spec.maximum) + 1, name="q_values")(x)
    return tf.keras.Model(inputs, q_values)


CONFIG = TrainConfig(
    name="cartpole",
    env=EnvConfig(id="CartPole-v1"),  # threshold 475 from the env's spec
    network=NetworkConfig(model="tfa_custom_nets.presets.cartpole:build_q_model",
                          kwargs={"hidden_units": [256, 256]}),
    agent=AgentConfig(
        kind="ddqn",                 # double-Q targets (van Hasselt et al. 2016); paper: DQN
        learning_rate=2e-3,          # Adam; paper: RMSProp 2.5e-4 ...
        learning_rate_end=0.0,       # ... falling linearly to 0 at the last update: the policy stops moving
        gamma=0.99,
        n_step_update=3,             # 3-step returns; paper: 1
        loss="mse",                  # paper: error clipped to [-1, 1] (Huber)
        gradient_clipping=10.0,
        target_update_period=1,      # every update ...
        target_update_tau=0.02,      # ... a Polyak step; paper: hard copy every 10k updates
        epsilon_start=1.0,
        epsilon_end=0.01,            # paper: 0.1
        epsilon_decay_steps=10_000,  # paper: 1M frames
    ),
    replay=ReplayConfig(capacity=50_000, batch_size=128, learning_starts=1_000),  # paper: 1M, 32, 50k; in memory
    total_env_steps=30_000,
    num_envs=16,                     # stepped as one batch: one policy call per 16 env steps
    update_every=1,                  # paper: one update per 4 env steps
    eval_interval=2_500,
    eval_episodes=20,
    checkpoint_interval=10_000,
)

if __name__ == "__main__":
    from tfa_custom_nets import cli

    sys.exit(cli.main(["train", "cartpole", *sys.argv[1:]]))
