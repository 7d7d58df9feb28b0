"""A `PyPolicy` that runs a stateless `TFPolicy` as one concrete TF function.

`PyTFEagerPolicy(use_tf_function=True)` costs about 1.1 ms per call for a
256x256 MLP on a 2-core machine, most of it in `tf.function` argument binding and
nest conversions. Calling the traced concrete function on flat tensors costs about
0.41 ms, and calling its flat entry point (`_call_flat`, which skips re-binding the
arguments) about 0.23 ms. Collection makes one call per env step, so this is the
collect loop's largest cost. `_call_flat` is private TensorFlow API: the stack is
pinned (tensorflow 2.15), and where it is missing the public call is used.

Only the observation crosses into TensorFlow: a stateless Q-value policy (greedy,
epsilon-greedy, the branching ones) reads nothing else of the time step, so the step type,
reward and discount are filled in inside the graph (MID, 0, 1). Fewer tensors per call is
also less memory: with TensorFlow 2.15 on Python 3.11 every `EagerTensor` created leaves
16-48 bytes behind when freed (tensorflow/tensorflow#62551; measured here, 0 bytes on
Python 3.10), which at one call per env step grew a 1M-step run by hundreds of MB.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from tf_agents.policies import py_policy, tf_policy
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import policy_step
from tf_agents.trajectories import time_step as ts


class CompiledPyPolicy(py_policy.PyPolicy):
    """Runs `policy.action` for a single time step, or a batch with `batched=True`; with `with_info` the
    step's policy info comes back too (PPO's collect policy records its distribution's parameters)."""

    def __init__(self, policy: tf_policy.TFPolicy, batched: bool = False, with_info: bool = False):
        if tf.nest.flatten(policy.policy_state_spec):
            raise ValueError(
                f"CompiledPyPolicy runs stateless policies; {policy.name} has state "
                f"{policy.policy_state_spec}. Use PyTFEagerPolicy for recurrent policies.")
        time_step_spec = tensor_spec.to_array_spec(policy.time_step_spec)
        action_spec = tensor_spec.to_array_spec(policy.action_spec)
        info_spec = tensor_spec.to_array_spec(policy.info_spec) if with_info else ()
        super().__init__(time_step_spec, action_spec, info_spec=info_spec)
        self._batched = batched
        spec = policy.time_step_spec
        flat_specs = [tf.TensorSpec([None] + s.shape.as_list(), s.dtype) for s in tf.nest.flatten(spec.observation)]

        def action_fn(*flat_observation):
            observation = tf.nest.pack_sequence_as(spec.observation, list(flat_observation))
            batch = tf.shape(flat_observation[0])[:1]

            def filled(leaf_spec, value):
                return tf.fill(tf.concat([batch, leaf_spec.shape.as_list()], 0), tf.constant(value, leaf_spec.dtype))

            time_step = ts.TimeStep(step_type=filled(spec.step_type, ts.StepType.MID),
                                    reward=tf.nest.map_structure(lambda s: filled(s, 0), spec.reward),
                                    discount=filled(spec.discount, 1), observation=observation)
            step = policy.action(time_step)
            return tf.nest.flatten((step.action, step.info) if with_info else step.action)

        concrete = tf.function(action_fn, autograph=False).get_concrete_function(*flat_specs)
        call_flat = getattr(concrete, "_call_flat", None)
        if call_flat is not None:
            captured = concrete.captured_inputs
            self._action_fn = lambda *tensors: call_flat(list(tensors), captured)
        else:
            self._action_fn = concrete
        self._outputs_spec = (policy.action_spec, policy.info_spec) if with_info else policy.action_spec
        self._with_info = with_info

    def _action(self, time_step, policy_state, seed=None):
        del policy_state, seed  # stateless; TF ops draw from the TF-seeded generator
        flat = tf.nest.flatten(time_step.observation)
        if not self._batched:
            flat = [np.expand_dims(x, 0) for x in flat]
        actions = [a.numpy() for a in self._action_fn(*[tf.constant(x) for x in flat])]
        if not self._batched:
            actions = [a[0] for a in actions]
        outputs = tf.nest.pack_sequence_as(self._outputs_spec, actions)
        action, info = outputs if self._with_info else (outputs, ())
        return policy_step.PolicyStep(action, (), info)
