"""pendulum_td3: Pendulum-v1 by TF-Agents' TD3, with a Keras actor and two Keras critics, on RL Zoo's settings.

    python -m tfa_custom_nets.presets.pendulum_td3 --seed 1     # or: tfa-nets train pendulum_td3 --seed 1

Swing a pendulum up and hold it there by a torque in [-2, 2] (200-step episodes cut by the time limit, so every
step bootstraps). -200 is the bar here, as for `pendulum_sac`. The actor is a 400x300 Keras model ending in one
output, tanh-scaled to the torque bounds by `KerasActorNetwork`; each critic (two, each with its own target) is a
400x300 Q(s, a) model (`KerasCriticNetwork`). The settings are RL Zoo's for TD3 on Pendulum-v1 (rl-zoo3
`hyperparams/td3.yml`, with SB3's TD3 defaults for what it leaves out): 10k uniform random steps, then one update
per env step for 10k more, gamma 0.98, learning rate 1e-3, batch 256, Gaussian exploration noise 0.1, target noise
0.2 clipped at 0.5, tau 0.005, the actor and the targets every second update, squared TD error.
"""

import sys

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
import tensorflow as tf

from tfa_custom_nets.training import AgentConfig, EnvConfig, NetworkConfig, ReplayConfig, TrainConfig


def actor_model(observation_spec, action_spec, hidden_units=(400, 300)):
    """observation -> dense layers (ReLU) -> one value per action dimension (the network tanh-scales it)."""
    inputs = tf.keras.Input(shape=observation_spec.shape, name="observation")
    x = inputs
    for units in hidden_units:
        x = tf.keras.layers.Dense(units, activation="relu")(x)
    return tf.keras.Model(inputs, tf.keras.layers.Dense(int(action_spec.shape[0]), name="action")(x))


CONFIG = TrainConfig(
    name="pendulum_td3",
    env=EnvConfig(id="Pendulum-v1", threshold=-200.0),
    network=NetworkConfig(model="tfa_custom_nets.presets.pendulum_td3:actor_model",
                          kwargs={"hidden_units": [400, 300]},
                          critic_model="tfa_custom_nets.models:dense_critic_model",
                          critic_kwargs={"hidden_units": [400, 300]}),
    agent=AgentConfig(
        kind="td3",
        learning_rate=1e-3,
        gamma=0.98,
        loss="mse",
        gradient_clipping=None,
        target_update_period=2,      # the targets move with the delayed actor (the paper's d = 2)
        target_update_tau=0.005,
        options={"exploration_noise": 0.1, "policy_delay": 2, "target_noise": 0.2, "noise_clip": 0.5},
    ),
    replay=ReplayConfig(capacity=200_000, batch_size=256, learning_starts=10_000),  # in memory
    total_env_steps=20_000,
    num_envs=1,
    update_every=1,
    eval_interval=1_000,
    eval_episodes=10,
    checkpoint_interval=10_000,
)

if __name__ == "__main__":
    from tfa_custom_nets import cli

    sys.exit(cli.main(["train", "pendulum_td3", *sys.argv[1:]]))
