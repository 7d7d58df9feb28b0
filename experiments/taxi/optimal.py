"""The optimal policy's score on the taxi preset's evaluations: the ceiling a greedy mean is read against.

    python experiments/taxi/optimal.py --seeds 1 2 3 4 5

Taxi-v4 is a known tabular MDP (`env.unwrapped.P`): value iteration gives the optimal policy, which
then plays the same 100 start states as each seed's final evaluation (the 20th, at 100k env steps).
"""

import argparse

import numpy as np

import tfa_custom_nets  # noqa: F401  (quiet imports first)
from tfa_custom_nets.training import evaluate, load_preset, make_env, override


def optimal_actions(transitions, states: int, actions: int, gamma: float = 0.99) -> np.ndarray:
    """Greedy actions of the optimal Q-function, by value iteration to convergence."""
    values = np.zeros(states)
    while True:
        q = np.array([[sum(p * (r + gamma * values[s2] * (not done)) for p, s2, r, done in transitions[s][a])
                       for a in range(actions)] for s in range(states)])
        if np.max(np.abs(q.max(1) - values)) < 1e-9:
            return q.argmax(1)
        values = q.max(1)


class TablePolicy:
    """A batched py policy that looks its action up in a table (what `evaluate` needs)."""

    def __init__(self, table):
        self.table = table

    def action(self, time_step):
        from tf_agents.trajectories import policy_step
        return policy_step.PolicyStep(self.table[np.asarray(time_step.observation)], (), ())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    args = parser.parse_args()
    config = override(load_preset("taxi"), ["env.action_mask=None"])
    env = make_env(config.env).gym_env.unwrapped
    policy = TablePolicy(optimal_actions(env.P, env.observation_space.n, env.action_space.n))
    last_eval = config.total_env_steps // config.eval_interval - 1
    eval_envs = [make_env(config.env) for _ in range(config.eval_episodes)]
    for seed in args.seeds:
        scores = evaluate(policy, eval_envs, config.replace(seed=seed).eval_seed(last_eval))
        print(f"seed {seed}: the optimal policy on the final evaluation's {len(scores)} episodes: "
              f"{scores.mean():.2f} ± {scores.std():.2f}")


if __name__ == "__main__":
    main()
