"""pendulum_sac: Pendulum-v1 by TF-Agents' SAC, with a shared-trunk Keras actor and Keras critics.

    python -m tfa_custom_nets.presets.pendulum_sac --seed 1     # or: tfa-nets train pendulum_sac --seed 1

Swing a pendulum up and hold it there by a torque in [-2, 2]: a reward of -(angle^2 + 0.1 velocity^2 +
0.001 torque^2) per step, 200-step episodes, no termination (every episode is cut by the time limit,
so every step bootstraps). Pendulum-v1 has no registered threshold; -200 is the bar here (RL Zoo's
tuned SAC reports about -176 after 20k steps).

The actor is one Keras model: a 256x256 trunk shared by a mean head and a std head
(`tfa_custom_nets.models:dense_actor_model`), wrapped by `KerasActorDistributionNetwork` (std through
softplus, tanh-squashed to the torque bounds); each of the two critics and their targets is its own
copy of a 256x256 Q(s, a) model (`KerasCriticNetwork`). Settings are SB3's SAC defaults with RL Zoo's
learning rate for Pendulum (1e-3): batch 256, tau 0.005, one update per env step, entropy tuned towards
-dim(action) = -1.
"""

import sys

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
from tfa_custom_nets.training import AgentConfig, EnvConfig, NetworkConfig, ReplayConfig, TrainConfig

CONFIG = TrainConfig(
    name="pendulum_sac",
    env=EnvConfig(id="Pendulum-v1", threshold=-200.0),
    network=NetworkConfig(model="tfa_custom_nets.models:dense_actor_model",
                          kwargs={"hidden_units": [256, 256]},
                          critic_model="tfa_custom_nets.models:dense_critic_model",
                          critic_kwargs={"hidden_units": [256, 256]},
                          actor_std="softplus"),
    agent=AgentConfig(
        kind="sac",
        learning_rate=1e-3,
        gamma=0.99,
        loss="mse",
        gradient_clipping=None,
        target_update_period=1,
        target_update_tau=0.005,
    ),
    replay=ReplayConfig(capacity=100_000, batch_size=256, learning_starts=1_000),  # in memory
    total_env_steps=30_000,
    num_envs=1,
    update_every=1,
    eval_interval=1_000,
    eval_episodes=10,
    checkpoint_interval=10_000,
)

if __name__ == "__main__":
    from tfa_custom_nets import cli

    sys.exit(cli.main(["train", "pendulum_sac", *sys.argv[1:]]))
