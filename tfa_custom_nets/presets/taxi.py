"""taxi: Taxi-v4 with its action mask (`info["action_mask"]`) through TF-Agents' Double DQN.

    python -m tfa_custom_nets.presets.taxi --seed 1     # or: tfa-nets train taxi --seed 1
    tfa-nets train taxi --seed 1 --set env.action_mask=None   # the same run without the mask

Pick up a passenger and drop them off at their destination: -1 per step, +20 for the drop-off,
-10 for a pickup or drop-off where none is possible, episodes cut at 200 steps; solved at a
greedy mean of 8 (the env's `reward_threshold`; an optimal policy averages about 8.5). The env
marks in `info["action_mask"]` the moves that change nothing (into a wall) and the pickups and
drop-offs that are not possible; with `env.action_mask="info"` the agent acts, explores and
bootstraps only among the others. Taxi-v3 is deprecated in gymnasium 1.3; v4 is the same task.

The model is an embedding of the 500 states (a learned table row per state) and one hidden layer.
"""

import sys

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
import tensorflow as tf

from tfa_custom_nets.training import AgentConfig, EnvConfig, NetworkConfig, ReplayConfig, TrainConfig


def build_q_model(observation_spec, action_spec, embedding=64, hidden_units=(64,)):
    """state index -> Embedding -> Dense -> one Q-value per action."""
    states = int(observation_spec.maximum) + 1
    inputs = tf.keras.Input(shape=(), dtype=observation_spec.dtype, name="observation")
    x = tf.keras.layers.Embedding(states, embedding)(inputs)
    for units in hidden_units:
        x = tf.keras.layers.Dense(units, activation="relu")(x)
    q_values = tf.keras.layers.Dense(int(action_spec.maximum) + 1, name="q_values")(x)
    return tf.keras.Model(inputs, q_values)


CONFIG = TrainConfig(
    name="taxi",
    env=EnvConfig(id="Taxi-v4", action_mask="info"),  # threshold 8 from the env's spec
    network=NetworkConfig(model="tfa_custom_nets.presets.taxi:build_q_model",
                          kwargs={"embedding": 64, "hidden_units": [64]}),
    agent=AgentConfig(
        kind="ddqn",
        learning_rate=1e-3,
        gamma=0.99,
        n_step_update=1,
        loss="huber",
        gradient_clipping=10.0,
        target_update_period=1,
        target_update_tau=0.01,
        epsilon_start=1.0,
        epsilon_end=0.02,
        epsilon_decay_steps=30_000,
    ),
    replay=ReplayConfig(capacity=100_000, batch_size=128, learning_starts=2_000),  # in memory
    total_env_steps=100_000,
    num_envs=16,
    update_every=2,
    eval_interval=5_000,
    eval_episodes=100,    # an optimal policy's return varies by +-2.6 between start states
    checkpoint_interval=25_000,
)

if __name__ == "__main__":
    from tfa_custom_nets import cli

    sys.exit(cli.main(["train", "taxi", *sys.argv[1:]]))
