"""BranchingDqnAgent: DQN for `(D,)` discrete actions, one Q-head per action dimension (BDQ).

Tavakoli, Pardo & Kormushev (2018), "Action Branching Architectures for Deep
Reinforcement Learning", arXiv:1711.08946. The network (`BranchingQNetwork`) gives
`Q_d(s, a_d)` for every branch d; the agent

- acts greedily per branch (argmax of each head), explores each branch on its own;
- regresses every branch onto one target shared across branches:

      a*_d = argmax_a Q_online_d(s', a)            (double_q=True; else argmax of Q_target_d)
      y    = r + gamma^n * agg_d Q_target_d(s', a*_d)

  with `agg` = mean over branches ("mean", the paper's choice), the max ("max"), or
  no aggregation ("independent": y_d = r + gamma^n * Q_target_d(s', a*_d));
- averages the per-branch Huber/squared errors over branches, multiplies each sample by
  its importance weight, and averages over the batch (as `DqnAgent` does).

With an `observation_and_action_constraint_splitter` (`tfa_custom_nets.envs.action_mask_splitter`;
a flat mask of `sum(n_d)` entries, branch 0's first) masked actions are never taken, explored or
chosen as a*_d: the argmax in the target runs over each branch's valid actions in s' (the next
observation carries its own mask).

Everything else is `DqnAgent`'s: n-step transitions, hard or Polyak target updates,
gradient clipping, checkpointing, and a `PolicySaver` export whose action is the
whole `(D,)` vector. With D = 1 its loss equals `DqnAgent`'s (`double_q=False`) or
`DdqnAgent`'s (`double_q=True`).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from tf_agents.agents import tf_agent
from tf_agents.agents.dqn import dqn_agent
from tf_agents.networks import utils as network_utils
from tf_agents.policies import boltzmann_policy, greedy_policy
from tf_agents.utils import common

from tfa_custom_nets.agents.branching_policies import (
    BranchingEpsilonGreedyPolicy,
    BranchingQPolicy,
    branch_sizes_of,
    mask_padding,
    split_observation,
)

AGGREGATIONS = ("mean", "max", "independent")


def gather_branch_actions(q_values: tf.Tensor, actions: tf.Tensor) -> tf.Tensor:
    """`q_values[b, d, actions[b, d]]`: `[B, D, M]` and `[B, D]` -> `[B, D]`."""
    return tf.gather(q_values, tf.cast(actions, tf.int32), axis=2, batch_dims=2)


class BranchingDqnAgent(dqn_agent.DqnAgent):
    """`DqnAgent` for an int action spec of shape `(D,)`; see the module docstring."""

    def __init__(self, time_step_spec, action_spec, q_network, optimizer, *args,
                 target_aggregation: str = "mean", double_q: bool = True, **kwargs):
        """Takes `DqnAgent`'s arguments, plus:

        Args:
          target_aggregation: how the next-state values of the branches combine into
            the TD target: "mean" (default), "max" or "independent".
          double_q: pick the next action of each branch with the online network and
            evaluate it with the target network (van Hasselt et al. 2016).
        """
        if target_aggregation not in AGGREGATIONS:
            raise ValueError(f"target_aggregation must be one of {AGGREGATIONS}, got {target_aggregation!r}.")
        if kwargs.get("emit_log_probability"):
            raise ValueError("BranchingDqnAgent's policies do not emit log-probabilities; "
                             "pass emit_log_probability=False.")
        super().__init__(time_step_spec, action_spec, q_network, optimizer, *args, **kwargs)
        self._check_mask_spec(time_step_spec.observation)
        self._target_aggregation = target_aggregation
        self._double_q = bool(double_q)

    @property
    def branch_sizes(self) -> list[int]:
        return list(self._branch_sizes)

    def _check_action_spec(self, action_spec):
        flat = tf.nest.flatten(action_spec)
        if len(flat) != 1:
            raise ValueError(f"BranchingDqnAgent: expected one action spec of shape (D,), saw {action_spec}.")
        spec = flat[0]
        if not spec.dtype.is_integer:
            raise ValueError(
                f"BranchingDqnAgent: expected an integer (MultiDiscrete) action spec, saw {spec.dtype.name} "
                f"({spec}). Fix: wrap the env in tfa_custom_nets.envs.DiscretizeActions(env, bins) to turn a "
                "Box action into n bins per dimension.")
        if spec.shape.rank != 1:
            raise ValueError(
                f"BranchingDqnAgent: expected an action spec of shape (D,), saw shape {spec.shape.as_list()}. "
                "Fix: for a single Discrete action use the stock DqnAgent with KerasQNetwork.")
        minimum = np.broadcast_to(spec.minimum, spec.shape)
        if np.any(minimum != 0):
            raise ValueError(
                f"BranchingDqnAgent: expected action minimum 0 in every branch, saw {minimum.tolist()}. "
                "Fix: load the env with tfa_custom_nets.envs.load (it shifts a MultiDiscrete `start` to 0).")
        self._branch_sizes = tuple(branch_sizes_of(spec))
        self._num_actions = max(self._branch_sizes)

    def _check_mask_spec(self, observation_spec):
        splitter = self._observation_and_action_constraint_splitter
        if splitter is None:
            return
        _, mask_spec = splitter(observation_spec)
        expected = sum(self._branch_sizes)
        if mask_spec.shape.as_list() != [expected]:
            raise ValueError(
                f"BranchingDqnAgent: the action mask has shape {mask_spec.shape.as_list()}, expected [{expected}]: "
                f"one entry per action of each branch, {' + '.join(map(str, self._branch_sizes))}, branch 0's "
                "first (sb3-contrib MaskablePPO's layout). Fix: load the env with tfa_custom_nets.envs.load(..., "
                "action_mask=...), which writes that layout.")

    def _check_network_output(self, net, label):
        network_utils.check_single_floating_network_output(
            net.create_variables(), expected_output_shape=(len(self._branch_sizes), max(self._branch_sizes)),
            label=label)
        sizes = getattr(net, "branch_sizes", None)
        if sizes is not None and list(sizes) != list(self._branch_sizes):
            raise ValueError(
                f"BranchingDqnAgent: {label} has branches of sizes {list(sizes)} but the action spec has "
                f"{list(self._branch_sizes)}. Fix: build the network with the agent's action spec.")

    def _setup_policy(self, time_step_spec, action_spec, boltzmann_temperature, emit_log_probability):
        splitter = self._observation_and_action_constraint_splitter
        policy = BranchingQPolicy(time_step_spec, action_spec, self._q_network,
                                  observation_and_action_constraint_splitter=splitter)
        if boltzmann_temperature is not None:
            collect_policy = boltzmann_policy.BoltzmannPolicy(policy, temperature=self._boltzmann_temperature)
        else:
            collect_policy = BranchingEpsilonGreedyPolicy(policy, epsilon=self._epsilon_greedy)
        target_policy = BranchingQPolicy(time_step_spec, action_spec, self._target_q_network,
                                         observation_and_action_constraint_splitter=splitter)
        self._target_greedy_policy = greedy_policy.GreedyPolicy(target_policy)
        return greedy_policy.GreedyPolicy(policy), collect_policy

    def _next_state_values(self, next_time_steps) -> tf.Tensor:
        """`agg_d Q_target_d(s', a*_d)`, broadcast to `[B, D]`; a*_d among the valid actions of s'."""
        observation, mask = split_observation(self._observation_and_action_constraint_splitter,
                                              next_time_steps.observation)
        step_type = next_time_steps.step_type
        target_q, _ = self._target_q_network(observation, step_type=step_type)
        selector = self._q_network(observation, step_type=step_type)[0] if self._double_q else target_q
        best = tf.argmax(mask_padding(selector, self._branch_sizes, mask), axis=-1)
        values = gather_branch_actions(target_q, best)
        if self._target_aggregation == "mean":
            return tf.broadcast_to(tf.reduce_mean(values, axis=1, keepdims=True), tf.shape(values))
        if self._target_aggregation == "max":
            return tf.broadcast_to(tf.reduce_max(values, axis=1, keepdims=True), tf.shape(values))
        return values

    def _loss(self, experience, td_errors_loss_fn=None, gamma=1.0, reward_scale_factor=1.0, weights=None,
              training=False):
        time_steps, policy_steps, next_time_steps = self._as_transition(experience)
        loss_fn = td_errors_loss_fn or self._td_errors_loss_fn
        with tf.name_scope("loss"):
            observation, _ = split_observation(self._observation_and_action_constraint_splitter,
                                               time_steps.observation)
            q_values, _ = self._q_network(observation, step_type=time_steps.step_type, training=training)
            taken = gather_branch_actions(q_values, policy_steps.action)  # [B, D]
            rewards = reward_scale_factor * next_time_steps.reward
            discounts = gamma * next_time_steps.discount
            targets = tf.stop_gradient(rewards[:, None] + discounts[:, None] * self._next_state_values(next_time_steps))
            valid = tf.cast(~time_steps.is_last(), tf.float32)
            branch_loss = loss_fn(targets, taken)  # [B, D]
            td_loss = valid * tf.reduce_mean(branch_loss, axis=1)
            td_error = valid[:, None] * (targets - taken)
            aggregated = common.aggregate_losses(per_example_loss=td_loss, sample_weight=weights,
                                                 regularization_loss=self._q_network.losses)
            common.summarize_scalar_dict(
                {"td_loss": aggregated.weighted, "reg_loss": aggregated.regularization,
                 "total_loss": aggregated.total_loss},
                step=self.train_step_counter, name_scope="Losses/")
        if self.summaries_enabled:  # outside the "loss" scope: tags read Branches/td_loss_0, ...
            for d in range(len(self._branch_sizes)):
                tf.compat.v2.summary.scalar(f"Branches/td_loss_{d}", tf.reduce_mean(branch_loss[:, d]),
                                            step=self.train_step_counter)
                tf.compat.v2.summary.scalar(f"Branches/q_taken_{d}", tf.reduce_mean(taken[:, d]),
                                            step=self.train_step_counter)
        return tf_agent.LossInfo(aggregated.total_loss, dqn_agent.DqnLossInfo(td_loss=td_loss, td_error=td_error))
