"""Stable-Baselines3's DQN on CartPole-v1 with RL Zoo's tuned hyperparameters, timed and evaluated the way
`train_eval` times and evaluates ours; one seed, its summary as one JSON line on stdout.

Runs in the peers' own environment (`make bench-peers` builds `.venv-peers`: stable-baselines3, CPU torch,
gymnasium; no TensorFlow), so it imports nothing of this project.

    .venv-peers/bin/python benchmarks/peers/sb3_cartpole.py --seed 21 [--eval-interval 2500 --eval-episodes 20]

Training seconds count `learn()` (warm-up included) less the time spent in evaluations; every
`--eval-interval` env steps the greedy policy (`deterministic=True`) plays `--eval-episodes` episodes.
"""

from __future__ import annotations

import argparse
import json
import time

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch
from stable_baselines3 import DQN
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.evaluation import evaluate_policy

# rl-baselines3-zoo, hyperparams/dqn.yml, CartPole-v1 (one env; 5e4 timesteps)
ZOO = {"learning_rate": 2.3e-3, "batch_size": 64, "buffer_size": 100_000, "learning_starts": 1000, "gamma": 0.99,
       "target_update_interval": 10, "train_freq": 256, "gradient_steps": 128, "exploration_fraction": 0.16,
       "exploration_final_eps": 0.04, "policy_kwargs": {"net_arch": [256, 256]}}
TIMESTEPS = 50_000
THRESHOLD = 475.0


class Evaluations(BaseCallback):
    """Greedy evaluations every `interval` env steps, their time kept apart from training time."""

    def __init__(self, eval_env, interval: int, episodes: int):
        super().__init__()
        self.eval_env, self.interval, self.episodes = eval_env, interval, episodes
        self.eval_seconds, self.rows, self.start = 0.0, [], None

    def _on_training_start(self) -> None:
        self.start = time.perf_counter()

    def evaluate(self) -> None:
        started = time.perf_counter()
        returns, _ = evaluate_policy(self.model, self.eval_env, n_eval_episodes=self.episodes, deterministic=True,
                                     return_episode_rewards=True)
        ended = time.perf_counter()
        self.eval_seconds += ended - started
        self.rows.append({"env_steps": self.num_timesteps, "train_seconds": ended - self.start - self.eval_seconds,
                          "eval_mean": float(np.mean(returns)), "eval_std": float(np.std(returns))})

    def _on_step(self) -> bool:
        if self.num_timesteps % self.interval == 0:
            self.evaluate()
        return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--eval-interval", type=int, default=2500)
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--timesteps", type=int, default=TIMESTEPS)
    args = parser.parse_args()
    env, eval_env = gym.make("CartPole-v1"), gym.make("CartPole-v1")
    eval_env.reset(seed=args.seed + 10_000)
    model = DQN("MlpPolicy", env, seed=args.seed, device="cpu", **ZOO)
    callback = Evaluations(eval_env, args.eval_interval, args.eval_episodes)
    model.learn(total_timesteps=args.timesteps, callback=callback)
    if not callback.rows or callback.rows[-1]["env_steps"] != model.num_timesteps:
        callback.evaluate()
    rows = callback.rows
    solved = next((r for r in rows if r["eval_mean"] >= THRESHOLD), None)
    best = max(rows, key=lambda r: r["eval_mean"])
    print(json.dumps({"seed": args.seed, "solved_at_step": solved and solved["env_steps"],
                      "solved_at_seconds": solved and round(solved["train_seconds"], 3),
                      "best_eval_mean": best["eval_mean"], "best_eval_step": best["env_steps"],
                      "eval_mean": rows[-1]["eval_mean"], "eval_std": rows[-1]["eval_std"],
                      "env_steps": model.num_timesteps, "train_seconds": round(rows[-1]["train_seconds"], 3),
                      "evaluations": rows, "versions": {"stable_baselines3": stable_baselines3.__version__,
                                                        "torch": torch.__version__, "gymnasium": gym.__version__}}))


if __name__ == "__main__":
    main()
