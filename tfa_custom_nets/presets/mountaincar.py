"""mountaincar: MountainCar-v0 (no reward shaping) with a Keras model on TF-Agents' stock DqnAgent.

    python -m tfa_custom_nets.presets.mountaincar --seed 1     # or: tfa-nets train mountaincar --seed 1

The classic Keras DQN tutorial task: -1 per step until the car reaches the flag, episodes cut at
200 steps, solved at a greedy mean of -110. The reward is the env's own. The hyperparameters are
the RL Baselines3 Zoo's tuned DQN for this env (Raffin 2020), translated to this loop; where the
translation is not exact the comment says so. Two things differ on purpose: observations are
rescaled to [-1, 1], and exploration is ez-greedy (random actions held for up to 50 steps).
With the zoo's plain epsilon-greedy no training episode reached the flag in 100k+ steps here
(the greedy policies learned to damp the car, or not to push), see README.md.
"""

import sys

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
import gymnasium as gym
import numpy as np

from tfa_custom_nets.training import AgentConfig, EnvConfig, NetworkConfig, ReplayConfig, TrainConfig


def make_env(env_id: str, **make_kwargs) -> gym.Env:
    """The env with its observation mapped linearly from its bounds onto [-1, 1].

    Raw velocity stays within +-0.07 while position spans 1.8, so an unscaled input gives the
    network almost no velocity signal at the start, and momentum is what this task is about.
    The reward is untouched.
    """
    return gym.wrappers.RescaleObservation(gym.make(env_id, **make_kwargs), np.float32(-1), np.float32(1))


CONFIG = TrainConfig(
    name="mountaincar",
    env=EnvConfig(id="MountainCar-v0", threshold=-110.0,  # the env's spec has reward_threshold -110
                  make="tfa_custom_nets.presets.mountaincar:make_env"),  # zoo: raw observations
    network=NetworkConfig(model="tfa_custom_nets.models:dense_q_model", kwargs={"hidden_units": [256, 256]}),
    agent=AgentConfig(
        kind="dqn",                   # as the zoo (vanilla DQN targets)
        learning_rate=4e-3,           # zoo: 4e-3 (Adam)
        gamma=0.98,                   # zoo: 0.98
        loss="huber",                 # zoo: smooth L1
        gradient_clipping=10.0,       # zoo: max_grad_norm 10
        target_update_period=300,     # zoo: hard copy every 600 env steps = 300 updates here
        target_update_tau=1.0,
        epsilon_start=1.0,
        epsilon_end=0.07,             # zoo: 0.07 ...
        epsilon_decay_steps=24_000,   # ... after 20% of 120k steps
        exploration="ez_greedy",      # zoo: epsilon-greedy. Here a random pick is held for n steps,
        ez_mu=1.0,                    # P(n) ∝ 1/n on 1..50 (Dabney et al. 2021)
        ez_max_repeat=50,
    ),
    replay=ReplayConfig(capacity=10_000, batch_size=128, learning_starts=1_000),  # zoo: 10k, 128, 1k
    total_env_steps=120_000,
    update_every=2,                   # zoo: 8 updates every 16 steps; here 1 every 2 (same ratio)
    eval_interval=5_000,
    eval_episodes=20,
    checkpoint_interval=20_000,
)

if __name__ == "__main__":
    from tfa_custom_nets import cli

    sys.exit(cli.main(["train", "mountaincar", *sys.argv[1:]]))
