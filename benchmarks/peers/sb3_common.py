"""What the Stable-Baselines3 peers share: greedy evaluations timed apart from training, and the one JSON line
`benchmarks/peers.py` reads. Runs in `.venv-peers` (no TensorFlow), so it imports nothing of this project.

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
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.evaluation import evaluate_policy


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


def arguments(eval_interval: int, eval_episodes: int, timesteps: int):
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--threshold", type=float, required=True, help="the preset's (benchmarks/peers.py passes it)")
    parser.add_argument("--eval-interval", type=int, default=eval_interval)
    parser.add_argument("--eval-episodes", type=int, default=eval_episodes)
    parser.add_argument("--timesteps", type=int, default=timesteps)
    return parser.parse_args()


def train_and_report(make_model, env_id: str, args) -> None:
    """Trains `make_model(env)` for `args.timesteps` with evaluations, and prints the summary as one JSON line."""
    env, eval_env = gym.make(env_id), gym.make(env_id)
    eval_env.reset(seed=args.seed + 10_000)
    model = make_model(env)
    callback = Evaluations(eval_env, args.eval_interval, args.eval_episodes)
    model.learn(total_timesteps=args.timesteps, callback=callback)
    if not callback.rows or callback.rows[-1]["env_steps"] != model.num_timesteps:
        callback.evaluate()
    rows = callback.rows
    solved = next((r for r in rows if r["eval_mean"] >= args.threshold), None)
    best = max(rows, key=lambda r: r["eval_mean"])
    print(json.dumps({"seed": args.seed, "solved_at_step": solved and solved["env_steps"],
                      "solved_at_seconds": solved and round(solved["train_seconds"], 3),
                      "best_eval_mean": best["eval_mean"], "best_eval_step": best["env_steps"],
                      "eval_mean": rows[-1]["eval_mean"], "eval_std": rows[-1]["eval_std"],
                      "env_steps": model.num_timesteps, "train_seconds": round(rows[-1]["train_seconds"], 3),
                      "evaluations": rows, "versions": {"stable_baselines3": stable_baselines3.__version__,
                                                        "torch": torch.__version__, "gymnasium": gym.__version__}}))
