"""Stable-Baselines3's DQN on CartPole-v1 with RL Zoo's tuned hyperparameters, timed and evaluated the way
`train_eval` times and evaluates ours (`sb3_common`); one seed, its summary as one JSON line on stdout.

    .venv-peers/bin/python benchmarks/peers/sb3_cartpole.py --seed 21 --threshold 475
        [--eval-interval 2500 --eval-episodes 20]
"""

from __future__ import annotations

from sb3_common import arguments, train_and_report
from stable_baselines3 import DQN

# rl-baselines3-zoo, hyperparams/dqn.yml, CartPole-v1 (one env; 5e4 timesteps)
ZOO = {"learning_rate": 2.3e-3, "batch_size": 64, "buffer_size": 100_000, "learning_starts": 1000, "gamma": 0.99,
       "target_update_interval": 10, "train_freq": 256, "gradient_steps": 128, "exploration_fraction": 0.16,
       "exploration_final_eps": 0.04, "policy_kwargs": {"net_arch": [256, 256]}}

if __name__ == "__main__":
    args = arguments(eval_interval=2500, eval_episodes=20, timesteps=50_000)
    train_and_report(lambda env: DQN("MlpPolicy", env, seed=args.seed, device="cpu", **ZOO), "CartPole-v1", args)
