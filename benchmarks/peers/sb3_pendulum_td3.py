"""Stable-Baselines3's TD3 on Pendulum-v1 with RL Zoo's tuned hyperparameters, timed and evaluated the way
`train_eval` times and evaluates ours (`sb3_common`); one seed, its summary as one JSON line on stdout.

    .venv-peers/bin/python benchmarks/peers/sb3_pendulum_td3.py --seed 1 --threshold -200
        [--eval-interval 1000 --eval-episodes 10]
"""

from __future__ import annotations

import numpy as np
from sb3_common import arguments, train_and_report
from stable_baselines3 import TD3
from stable_baselines3.common.noise import NormalActionNoise

# rl-baselines3-zoo, hyperparams/td3.yml, Pendulum-v1 (2e4 timesteps); the rest SB3's TD3 defaults (batch 256,
# tau 0.005, policy_delay 2, target_policy_noise 0.2, target_noise_clip 0.5)
ZOO = {"gamma": 0.98, "buffer_size": 200_000, "learning_starts": 10_000, "gradient_steps": 1, "train_freq": 1,
       "learning_rate": 1e-3, "policy_kwargs": {"net_arch": [400, 300]}}

if __name__ == "__main__":
    args = arguments(eval_interval=1000, eval_episodes=10, timesteps=20_000)
    train_and_report(lambda env: TD3("MlpPolicy", env, seed=args.seed, device="cpu",
                                     action_noise=NormalActionNoise(np.zeros(1), 0.1 * np.ones(1)), **ZOO),
                     "Pendulum-v1", args)
