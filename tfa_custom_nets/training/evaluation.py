"""Greedy evaluation: N episodes stepped in lockstep, one policy call per step.

Running the evaluation episodes side by side makes one batched policy call serve
every live episode, so a 20-episode CartPole evaluation costs about as many policy
calls as one episode.
"""

from __future__ import annotations

import numpy as np
from tf_agents.environments import py_environment
from tf_agents.policies import py_policy
from tf_agents.utils import nest_utils


def evaluate(policy: py_policy.PyPolicy, envs: list[py_environment.PyEnvironment],
             seed: int) -> np.ndarray:
    """Returns of one episode per env; env i starts from seed `seed + i`.

    Args:
      policy: a py policy taking batched time steps (`CompiledPyPolicy(..., batched=True)`).
      envs: one environment per episode, reused across evaluations.
      seed: the first episode's seed.
    """
    time_steps = []
    for i, env in enumerate(envs):
        env.seed(seed + i)
        time_steps.append(env.reset())
    returns = np.zeros(len(envs), dtype=np.float64)
    live = list(range(len(envs)))
    while live:
        batch = nest_utils.stack_nested_arrays([time_steps[i] for i in live])
        actions = nest_utils.unstack_nested_arrays(policy.action(batch).action)
        still_live = []
        for row, i in enumerate(live):
            time_steps[i] = envs[i].step(actions[row])
            returns[i] += float(time_steps[i].reward)
            if not time_steps[i].is_last():
                still_live.append(i)
        live = still_live
    return returns
