"""Policies over `(D,)` actions from a branching Q-network's `[B, D, max n_d]` Q-values.

`BranchingQPolicy` turns each branch's Q-values into a categorical over that branch's
actions (padded entries past a branch's size get logit -inf: no mass, never the argmax, whatever
the real values are), so TF-Agents' `GreedyPolicy` (argmax per branch) and `BoltzmannPolicy` wrap
it unchanged.
`BranchingEpsilonGreedyPolicy` explores each branch on its own: with probability
epsilon a branch takes a uniform action among its n_d, independently of the others.

With an `observation_and_action_constraint_splitter` (`tfa_custom_nets.envs.action_mask_splitter`)
the observation carries a flat 0/1 mask of `sum(n_d)` entries (branch 0's first, the layout of
sb3-contrib's MaskablePPO): a masked action gets logit -inf like padding, so the greedy action,
Boltzmann samples and the epsilon-greedy random action of each branch are drawn from its valid
actions only (a branch with one valid action always takes it). A branch left with no valid action
stops the policy with an error naming the batch row and the branch.
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


def mask_padding(q_values: tf.Tensor, branch_sizes, mask: tf.Tensor | None = None) -> tf.Tensor:
    """`[B, D, max n_d]` Q-values with every entry past branch d's size set to -inf: padded actions can
    never be chosen, even when a branch's real values lie below the network's finite padding value.
    With a flat `[B, sum(n_d)]` action `mask`, masked actions are set to -inf too."""
    if mask is None:
        valid = tf.constant(np.arange(max(branch_sizes))[None, :] < np.asarray(branch_sizes)[:, None])  # [D, max n_d]
    else:
        valid = branch_mask(mask, branch_sizes)  # padding included
    return tf.where(valid, q_values, tf.constant(-np.inf, q_values.dtype))


def branch_mask(mask: tf.Tensor, branch_sizes) -> tf.Tensor:
    """A flat `[B, sum(n_d)]` 0/1 action mask as `[B, D, max n_d]` bools (padding False)."""
    sizes = [int(n) for n in branch_sizes]
    total, offsets = sum(sizes), np.cumsum([0] + sizes[:-1])
    index = np.full((len(sizes), max(sizes)), total)  # padding reads the appended False column
    for d, (offset, size) in enumerate(zip(offsets, sizes)):
        index[d, :size] = offset + np.arange(size)
    flat = tf.cast(mask, tf.bool)
    flat = tf.concat([flat, tf.zeros_like(flat[..., :1])], axis=-1)
    return tf.gather(flat, tf.constant(index), axis=-1)


def check_branch_mask(valid: tf.Tensor, mask: tf.Tensor):
    """An assertion that every row of `[B, D, M]` bools leaves each branch a valid action.

    A row whose flat `mask` is all zeros is let through (its greedy action is 0 in every branch): no env
    publishes it (`envs.load` refuses such a mask), but TF-Agents' `SavedModelPyTFEagerPolicy` warms a
    loaded policy up with an all-zero time step, and that must not stop `tfa-nets eval`.
    """
    has_valid = tf.reduce_any(valid, axis=-1)  # [B, D]
    empty = ~tf.reduce_any(tf.cast(mask, tf.bool), axis=-1)  # [B]
    return tf.debugging.Assert(
        tf.reduce_all(has_valid | empty[:, None]),
        ["Branching policy: the action mask rules out every action of a branch; [batch row, branch] pairs:",
         tf.where(~has_valid), "Fix the env's mask: at least one valid action per branch in every state acted on."],
        summarize=20)


def split_observation(splitter, observation):
    """`(what the network sees, the flat mask)` with a splitter; `(observation, None)` without."""
    return (observation, None) if splitter is None else splitter(observation)


class BranchingQPolicy(tf_policy.TFPolicy):
    """A categorical per branch with the branch's Q-values as logits."""

    def __init__(self, time_step_spec, action_spec, q_network, emit_log_probability=False, name=None,
                 observation_and_action_constraint_splitter=None):
        self._q_network = q_network
        self._branch_sizes = branch_sizes_of(action_spec)
        super().__init__(time_step_spec, action_spec, policy_state_spec=q_network.state_spec, clip=False,
                         emit_log_probability=emit_log_probability, name=name,
                         observation_and_action_constraint_splitter=observation_and_action_constraint_splitter)

    def _variables(self):
        return self._q_network.variables

    def _distribution(self, time_step, policy_state):
        observation, mask = split_observation(self.observation_and_action_constraint_splitter, time_step.observation)
        q_values, policy_state = self._q_network(observation, network_state=policy_state,
                                                 step_type=time_step.step_type)
        logits = mask_padding(q_values, self._branch_sizes, mask)
        if mask is not None:
            with tf.control_dependencies([check_branch_mask(logits > -np.inf, mask)]):
                logits = tf.identity(logits)
        distribution = tfp.distributions.Categorical(logits=logits, dtype=self.action_spec.dtype)
        return policy_step.PolicyStep(distribution, policy_state)


class BranchingEpsilonGreedyPolicy(tf_policy.TFPolicy):
    """Greedy per branch; each branch independently takes a uniform action with probability epsilon."""

    def __init__(self, policy: tf_policy.TFPolicy, epsilon, name=None):
        """`policy`: a BranchingQPolicy; `epsilon`: a float, a scalar tensor or a callable returning one."""
        self._greedy_policy = greedy_policy.GreedyPolicy(policy)
        self._epsilon = epsilon
        self._branch_sizes = branch_sizes_of(policy.action_spec)
        self._sizes = tf.constant(self._branch_sizes, policy.action_spec.dtype)
        super().__init__(policy.time_step_spec, policy.action_spec, policy.policy_state_spec, policy.info_spec,
                         emit_log_probability=policy.emit_log_probability, name=name,
                         observation_and_action_constraint_splitter=policy.observation_and_action_constraint_splitter)

    @property
    def wrapped_policy(self) -> tf_policy.TFPolicy:
        return self._greedy_policy.wrapped_policy

    def _variables(self):
        return self._greedy_policy.variables()

    def _action(self, time_step, policy_state, seed):
        seeds = tfp.util.SeedStream(seed=seed, salt="branching_epsilon_greedy")
        greedy = self._greedy_policy.action(time_step, policy_state)
        shape = tf.shape(greedy.action)  # [B, D]
        _, mask = split_observation(self.observation_and_action_constraint_splitter, time_step.observation)
        if mask is None:
            sizes = tf.cast(self._sizes, tf.float32)
            uniform = tf.cast(tf.floor(tf.random.uniform(shape, seed=seeds()) * sizes), self._sizes.dtype)
            uniform = tf.minimum(uniform, self._sizes - 1)  # uniform() < 1, but guard the float edge
        else:  # the largest of uniform scores over the valid actions: a uniform valid action
            valid = branch_mask(mask, self._branch_sizes)
            scores = tf.where(valid, tf.random.uniform(tf.shape(valid), seed=seeds()), -1.0)
            uniform = tf.cast(tf.argmax(scores, axis=-1), self._sizes.dtype)
        epsilon = self._epsilon() if callable(self._epsilon) else self._epsilon
        explore = tf.random.uniform(shape, seed=seeds()) < tf.cast(epsilon, tf.float32)
        action = tf.where(explore, uniform, greedy.action)
        return policy_step.PolicyStep(action, greedy.state, greedy.info)
