"""Greedy evaluation: N episodes stepped in lockstep, one policy call per step.

Running the evaluation episodes side by side makes one batched policy call serve
every live episode, so a 20-episode CartPole evaluation costs about as many policy
calls as one episode.
"""

from __future__ import annotations

import numpy as np
from tf_agents.environments import py_environment
from tf_agents.policies import py_policy
from tf_agents.specs import array_spec
from tf_agents.trajectories import policy_step
from tf_agents.utils import nest_utils


class UniformRandomPyPolicy(py_policy.PyPolicy):
    """Uniform random actions for a batch of time steps: the baseline `evaluate` compares against.

    TF-Agents' `RandomPyPolicy` cannot sample a batch of `(D,)` actions whose bounds
    differ per dimension (a MultiDiscrete); this samples one action per row.
    """

    def __init__(self, time_step_spec, action_spec, seed: int = 0):
        super().__init__(time_step_spec, action_spec)
        self._rng = np.random.RandomState(seed)

    def _action(self, time_step, policy_state):
        rows = len(time_step.step_type)
        actions = [array_spec.sample_spec_nest(self.action_spec, self._rng) for _ in range(rows)]
        return policy_step.PolicyStep(nest_utils.stack_nested_arrays(actions), policy_state, ())


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
