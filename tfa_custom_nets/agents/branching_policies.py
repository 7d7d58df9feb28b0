"""Policies over `(D,)` actions from a branching Q-network's `[B, D, max n_d]` Q-values.

`BranchingQPolicy` turns each branch's Q-values into a categorical over that branch's
actions (padded entries past a branch's size get logit -inf: no mass, never the argmax, whatever
the real values are), so TF-Agents' `GreedyPolicy` (argmax per branch) and `BoltzmannPolicy` wrap
it unchanged.
`BranchingEpsilonGreedyPolicy` explores each branch on its own: with probability
epsilon a branch takes a uniform action among its n_d, independently of the others.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from tf_agents.policies import greedy_policy, tf_policy
from tf_agents.trajectories import policy_step


def branch_sizes_of(action_spec) -> list[int]:
    """`[n_1, ..., n_D]` of a `(D,)` int action spec with minimum 0."""
    return [int(m) + 1 for m in np.broadcast_to(action_spec.maximum, action_spec.shape)]


def mask_padding(q_values: tf.Tensor, branch_sizes) -> tf.Tensor:
    """`[B, D, max n_d]` Q-values with every entry past branch d's size set to -inf: padded actions can
    never be chosen, even when a branch's real values lie below the network's finite padding value."""
    valid = np.arange(max(branch_sizes))[None, :] < np.asarray(branch_sizes)[:, None]  # [D, max n_d]
    return tf.where(tf.constant(valid), q_values, tf.constant(-np.inf, q_values.dtype))


class BranchingQPolicy(tf_policy.TFPolicy):
    """A categorical per branch with the branch's Q-values as logits."""

    def __init__(self, time_step_spec, action_spec, q_network, emit_log_probability=False, name=None):
        self._q_network = q_network
        self._branch_sizes = branch_sizes_of(action_spec)
        super().__init__(time_step_spec, action_spec, policy_state_spec=q_network.state_spec, clip=False,
                         emit_log_probability=emit_log_probability, name=name)

    def _variables(self):
        return self._q_network.variables

    def _distribution(self, time_step, policy_state):
        q_values, policy_state = self._q_network(
            time_step.observation, network_state=policy_state, step_type=time_step.step_type)
        distribution = tfp.distributions.Categorical(logits=mask_padding(q_values, self._branch_sizes),
                                                     dtype=self.action_spec.dtype)
        return policy_step.PolicyStep(distribution, policy_state)


class BranchingEpsilonGreedyPolicy(tf_policy.TFPolicy):
    """Greedy per branch; each branch independently takes a uniform action with probability epsilon."""

    def __init__(self, policy: tf_policy.TFPolicy, epsilon, name=None):
        """`policy`: a BranchingQPolicy; `epsilon`: a float, a scalar tensor or a callable returning one."""
        self._greedy_policy = greedy_policy.GreedyPolicy(policy)
        self._epsilon = epsilon
        self._sizes = tf.constant(branch_sizes_of(policy.action_spec), policy.action_spec.dtype)
        super().__init__(policy.time_step_spec, policy.action_spec, policy.policy_state_spec, policy.info_spec,
                         emit_log_probability=policy.emit_log_probability, name=name)

    @property
    def wrapped_policy(self) -> tf_policy.TFPolicy:
        return self._greedy_policy.wrapped_policy

    def _variables(self):
        return self._greedy_policy.variables()

    def _action(self, time_step, policy_state, seed):
        seeds = tfp.util.SeedStream(seed=seed, salt="branching_epsilon_greedy")
        greedy = self._greedy_policy.action(time_step, policy_state)
        shape = tf.shape(greedy.action)  # [B, D]
        sizes = tf.cast(self._sizes, tf.float32)
        uniform = tf.cast(tf.floor(tf.random.uniform(shape, seed=seeds()) * sizes), self._sizes.dtype)
        uniform = tf.minimum(uniform, self._sizes - 1)  # uniform() < 1, but guard the float edge
        epsilon = self._epsilon() if callable(self._epsilon) else self._epsilon
        explore = tf.random.uniform(shape, seed=seeds()) < tf.cast(epsilon, tf.float32)
        action = tf.where(explore, uniform, greedy.action)
        return policy_step.PolicyStep(action, greedy.state, greedy.info)
