"""Each file in tfa_custom_nets/networks/ works when copied alone into another project."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NETWORKS = Path(__file__).resolve().parents[2] / "tfa_custom_nets" / "networks"
FILES = sorted(p for p in NETWORKS.glob("*.py") if not p.name.startswith("_"))  # not __init__, _shared

USE_EACH = """
import importlib, sys
import tensorflow as tf
from tf_agents.specs import tensor_spec
obs = tensor_spec.TensorSpec((4,), tf.float32)
actions = tensor_spec.BoundedTensorSpec((), tf.int64, 0, 1)
for name in sys.argv[1:]:
    module = importlib.import_module(name)
    cls = next(getattr(module, attr) for attr in dir(module)
               if attr.lower() == name.replace("_", "") and isinstance(getattr(module, attr), type))
    width = 2 * 3 if "categorical" in name else 2
    extra = {"num_atoms": 3} if "categorical" in name else {}
    spec = actions
    if "branching" in name:
        width, spec = 2 + 3, tensor_spec.BoundedTensorSpec((2,), tf.int64, 0, [1, 2])
    if "joint" in name:
        width, spec, extra = 2 + 3, tensor_spec.BoundedTensorSpec((), tf.int64, 0, 5), {"branch_sizes": [2, 3]}
    model = lambda: tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(width)])
    head = lambda width, name=None: lambda: tf.keras.Sequential([tf.keras.Input((4,)),
                                                                 tf.keras.layers.Dense(width, name=name)])
    box = tensor_spec.BoundedTensorSpec((2,), tf.float32, -1.0, 1.0)
    if "value" in name:
        out, _ = cls(obs, head(1))(tf.zeros([1, 4]))
    elif "distribution" in name:
        out, _ = cls(obs, spec, head(2, "logits"))(tf.zeros([1, 4]))
        out = out.logits
    elif "actor" in name:
        out, _ = cls(obs, box, head(2))(tf.zeros([1, 4]))
    elif "critic" in name:
        def two_inputs():
            o, a = tf.keras.Input((4,), name="observation"), tf.keras.Input((2,), name="action")
            return tf.keras.Model([o, a], tf.keras.layers.Dense(1)(tf.keras.layers.Concatenate()([o, a])))
        out, _ = cls((obs, box), two_inputs)((tf.zeros([1, 4]), tf.zeros([1, 2])))
    else:
        out, _ = cls(obs, spec, model, **extra)(tf.zeros([1, 4]))
    print(name, out.shape)
assert not [m for m in sys.modules if m.startswith("tfa_custom_nets")], "imported the package"
"""


@pytest.mark.slow
def test_every_network_file_runs_from_an_empty_directory(tmp_path):
    assert FILES, "no network files found"
    for path in FILES:
        shutil.copy(path, tmp_path / path.name)
    # -I: isolated mode, so neither the repo nor an editable install is on sys.path.
    site = [p for p in sys.path if p.endswith("site-packages")]
    code = f"import sys; sys.path[:0] = {[str(tmp_path)] + site!r}\n" + USE_EACH
    result = subprocess.run([sys.executable, "-I", "-c", code, *[p.stem for p in FILES]],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    for path in FILES:
        assert path.stem in result.stdout


TRAIN_EACH = """
import sys
import numpy as np
import tensorflow as tf
from tf_agents.agents.categorical_dqn import categorical_dqn_agent
from tf_agents.agents.dqn import dqn_agent
from tf_agents.policies import policy_saver
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts
from joint_q_network import JointQNetwork
from keras_categorical_q_network import KerasCategoricalQNetwork
from keras_q_network import KerasQNetwork

obs = tensor_spec.TensorSpec((4,), tf.float32)
step_spec = ts.time_step_spec(obs)
def model(width):
    return lambda: tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(16, activation="relu"),
                                        tf.keras.layers.Dense(width)])
def actions(n):
    return tensor_spec.BoundedTensorSpec((), tf.int64, 0, n - 1)
optimizer = lambda: tf.keras.optimizers.Adam(1e-2)
agents = {
    "keras_q_network DqnAgent": dqn_agent.DqnAgent(
        step_spec, actions(2), q_network=KerasQNetwork(obs, actions(2), model(2)), optimizer=optimizer()),
    "keras_q_network DdqnAgent": dqn_agent.DdqnAgent(
        step_spec, actions(2), q_network=KerasQNetwork(obs, actions(2), model(2)), optimizer=optimizer()),
    "joint_q_network DdqnAgent": dqn_agent.DdqnAgent(
        step_spec, actions(6), q_network=JointQNetwork(obs, actions(6), model(2 + 3), branch_sizes=[2, 3]),
        optimizer=optimizer()),
    "keras_categorical_q_network CategoricalDqnAgent": categorical_dqn_agent.CategoricalDqnAgent(
        step_spec, actions(2), categorical_q_network=KerasCategoricalQNetwork(obs, actions(2), model(2 * 11),
                                                                              num_atoms=11), optimizer=optimizer()),
}
rng = np.random.default_rng(0)
observations = tf.constant(rng.normal(size=(8, 4)), tf.float32)
for name, agent in agents.items():
    agent.initialize()
    batch = tf.nest.map_structure(lambda s: tf.zeros([16, 2] + s.shape.as_list(), s.dtype), agent.collect_data_spec)
    mid = tf.ones([16, 2], tf.int32)  # StepType.MID
    batch = batch._replace(observation=tf.constant(rng.normal(size=(16, 2, 4)), tf.float32),
                           reward=tf.ones([16, 2]), discount=tf.ones([16, 2]), step_type=mid, next_step_type=mid)
    before = [v.numpy().copy() for v in agent.policy.variables()]
    loss = float(agent.train(batch).loss)
    moved = any(not np.allclose(a, b.numpy()) for a, b in zip(before, agent.policy.variables()))
    directory = f"{sys.argv[1]}/{name.replace(' ', '_')}"
    policy_saver.PolicySaver(agent.policy, batch_size=None).save(directory)
    loaded = tf.saved_model.load(directory)
    step = ts.restart(observations, batch_size=8)
    same = np.array_equal(loaded.action(step).action.numpy(), agent.policy.action(step).action.numpy())
    print(name, np.isfinite(loss), moved, same)

# PPO on a mixed action (a 2-D Box and a Discrete) with the actor and value files, from a random env.
from tf_agents.agents.ppo import ppo_clip_agent
from tf_agents.drivers import dynamic_step_driver
from tf_agents.environments import random_tf_environment
from tf_agents.policies import greedy_policy
from tf_agents.replay_buffers import tf_uniform_replay_buffer
from keras_actor_distribution_network import KerasActorDistributionNetwork
from keras_value_network import KerasValueNetwork

mixed = {"turn": tensor_spec.BoundedTensorSpec((2,), tf.float32, -1.0, 1.0),
         "grip": tensor_spec.BoundedTensorSpec((), tf.int64, 0, 1)}
def actor():
    inputs = tf.keras.Input((4,), name="observation")
    trunk = tf.keras.layers.Dense(16, activation="tanh")(inputs)
    return tf.keras.Model(inputs, {"turn_mean": tf.keras.layers.Dense(2)(trunk),
                                   "turn_std": tf.keras.layers.Dense(2)(trunk),
                                   "grip_logits": tf.keras.layers.Dense(2)(trunk)})
# Observations and rewards within [-1, 1]: an unbounded spec samples values near 1e37 (a saturated tanh,
# an infinite squared TD error).
step_spec = ts.time_step_spec(tensor_spec.BoundedTensorSpec((4,), tf.float32, -1.0, 1.0),
                              reward_spec=tensor_spec.BoundedTensorSpec((), tf.float32, -1.0, 1.0))
env = random_tf_environment.RandomTFEnvironment(step_spec, mixed, batch_size=1)
agent = ppo_clip_agent.PPOClipAgent(step_spec, mixed, optimizer(), actor_net=KerasActorDistributionNetwork(
    obs, mixed, actor), value_net=KerasValueNetwork(obs, model(1)), num_epochs=1)
agent.initialize()
buffer = tf_uniform_replay_buffer.TFUniformReplayBuffer(agent.collect_data_spec, batch_size=1, max_length=32)
dynamic_step_driver.DynamicStepDriver(env, agent.collect_policy, [buffer.add_batch], num_steps=16).run()
before = [v.numpy().copy() for v in agent.policy.variables()]
loss = float(agent.train(buffer.gather_all()).loss)
moved = any(not np.allclose(a, b.numpy()) for a, b in zip(before, agent.policy.variables()))
policy = greedy_policy.GreedyPolicy(agent.policy)
directory = f"{sys.argv[1]}/ppo"
policy_saver.PolicySaver(policy, batch_size=None).save(directory)
loaded = tf.saved_model.load(directory)
step = ts.restart(observations, batch_size=8)
ours, theirs = policy.action(step).action, loaded.action(step).action
# atol as well: with a relative tolerance alone, an action near 0 fails on float rounding between the two.
same = (np.allclose(ours["turn"], theirs["turn"], rtol=1e-5, atol=1e-6)
        and np.array_equal(ours["grip"], theirs["grip"]))
print("keras_actor_distribution_network+keras_value_network PPOClipAgent", np.isfinite(loss), moved, same)

# TD3 with the deterministic actor and the critic files.
from tf_agents.agents.td3 import td3_agent
from keras_actor_network import KerasActorNetwork
from keras_critic_network import KerasCriticNetwork

box = tensor_spec.BoundedTensorSpec((2,), tf.float32, -1.0, 1.0)
def critic():
    o, a = tf.keras.Input((4,), name="observation"), tf.keras.Input((2,), name="action")
    x = tf.keras.layers.Dense(16, activation="relu")(tf.keras.layers.Concatenate()([o, a]))
    return tf.keras.Model([o, a], tf.keras.layers.Dense(1)(x))
env = random_tf_environment.RandomTFEnvironment(step_spec, box, batch_size=1)
agent = td3_agent.Td3Agent(step_spec, box, actor_network=KerasActorNetwork(obs, box, model(2)),
                           critic_network=KerasCriticNetwork((obs, box), critic), actor_optimizer=optimizer(),
                           critic_optimizer=optimizer(), actor_update_period=1)
agent.initialize()
buffer = tf_uniform_replay_buffer.TFUniformReplayBuffer(agent.collect_data_spec, batch_size=1, max_length=32)
dynamic_step_driver.DynamicStepDriver(env, agent.collect_policy, [buffer.add_batch], num_steps=16).run()
experience = next(iter(buffer.as_dataset(sample_batch_size=8, num_steps=2)))[0]
before = [v.numpy().copy() for v in agent.policy.variables()]
loss = float(agent.train(experience).loss)
moved = any(not np.allclose(a, b.numpy()) for a, b in zip(before, agent.policy.variables()))
directory = f"{sys.argv[1]}/td3"
policy_saver.PolicySaver(agent.policy, batch_size=None).save(directory)
loaded = tf.saved_model.load(directory)
same = np.allclose(loaded.action(step).action.numpy(), agent.policy.action(step).action.numpy(), rtol=1e-5, atol=1e-6)
print("keras_actor_network+keras_critic_network Td3Agent", np.isfinite(loss), moved, same)
"""


@pytest.mark.slow
def test_network_files_copied_alone_train_in_their_stock_agents_and_reload_their_policy_saver_export(tmp_path):
    """What a user of another TF-Agents project does (on either stack): copy one file, build the stock
    agent on it, train a step, export with PolicySaver and reload; the reloaded policy acts the same."""
    for path in FILES:
        shutil.copy(path, tmp_path / path.name)
    site = [p for p in sys.path if p.endswith("site-packages")]
    code = f"import sys; sys.path[:0] = {[str(tmp_path)] + site!r}\n" + TRAIN_EACH
    result = subprocess.run([sys.executable, "-I", "-c", code, str(tmp_path / "exports")],
                            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert [line.split()[-3:] for line in result.stdout.splitlines()] == [["True", "True", "True"]] * 6, result.stdout


KERAS_3 = """
import importlib, sys
import tensorflow as tf
from tf_agents.specs import tensor_spec
for name in sys.argv[1:]:
    module = importlib.import_module(name)
    cls = next(getattr(module, attr) for attr in dir(module)
               if attr.lower() == name.replace("_", "") and isinstance(getattr(module, attr), type))
    specs = [tensor_spec.TensorSpec((4,), tf.float32)]
    if "critic" in name:
        specs = [(specs[0], tensor_spec.BoundedTensorSpec((2,), tf.float32, -1.0, 1.0))]
    elif "value" not in name:
        specs.append(tensor_spec.BoundedTensorSpec((), tf.int64, 0, 1))
    try:
        cls(*specs, None, **({"branch_sizes": [2]} if "joint" in name else {}))
    except ImportError as error:
        print(error)
"""


@pytest.mark.skipif(importlib.util.find_spec("tf_keras") is None,
                    reason="TensorFlow 2.15's tf.keras is Keras 2 and cannot be switched to Keras 3 (modern stack)")
def test_every_network_file_refuses_keras_3_behind_tf_keras_with_the_fix(tmp_path):
    """A TF >= 2.16 project that did not set TF_USE_LEGACY_KERAS gets Keras 3 behind tf.keras: each file,
    copied alone, says what to install and set instead of failing deep inside Keras."""
    for path in FILES:
        shutil.copy(path, tmp_path / path.name)
    site = [p for p in sys.path if p.endswith("site-packages")]
    code = f"import sys; sys.path[:0] = {[str(tmp_path)] + site!r}\n" + KERAS_3
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "0"}
    result = subprocess.run([sys.executable, "-I", "-c", code, *[p.stem for p in FILES]],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert len(lines) == len(FILES)
    for line in lines:
        assert "tf.keras is Keras 3." in line and "Fix: `pip install tf-keras`" in line
        assert "set TF_USE_LEGACY_KERAS=1 before TensorFlow is first imported" in line


REPO = Path(__file__).resolve().parents[2]


def _vendor(*args, cwd=REPO):
    """`make vendor` (tools/vendor_networks.py) of the tree at cwd."""
    return subprocess.run([sys.executable, str(cwd / "tools" / "vendor_networks.py"), *args],
                          capture_output=True, text=True, cwd=cwd, timeout=60)


def test_generated_blocks_match_their_source():
    """`make vendor` writes each file's block from networks/_shared.py; a block edited by hand, or a source
    edited without `make vendor`, fails here."""
    result = _vendor("--check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "stale: none"


def test_the_check_fails_on_a_stale_block_and_make_vendor_mends_it(tmp_path):
    """The check can fail: in a copy of the tools and the package, a helper edited in the source makes every
    file that carries it stale, and rewriting the blocks brings them back in line (and only those files)."""
    shutil.copytree(REPO / "tools", tmp_path / "tools")
    shutil.copytree(NETWORKS, tmp_path / "tfa_custom_nets" / "networks")
    shared = tmp_path / "tfa_custom_nets" / "networks" / "_shared.py"
    shared.write_text(shared.read_text().replace("expected float Q-values", "expected float Q-values!")
                      .replace("zero-argument callable that builds one.", "zero-argument callable building one."))
    result = _vendor("--check", cwd=tmp_path)
    assert result.returncode == 1
    assert all(path.name in result.stderr for path in FILES), result.stderr  # every file carries _fresh_model
    assert _vendor(cwd=tmp_path).returncode == 0
    assert _vendor("--check", cwd=tmp_path).stdout.strip() == "stale: none"
    copied = tmp_path / "tfa_custom_nets" / "networks" / "keras_critic_network.py"
    assert "zero-argument callable building one." in copied.read_text()


def _own_functions(path: Path) -> dict:
    """The functions (and methods) in a file's own part, above its generated block, as AST dumps."""
    import ast

    text = path.read_text()
    marker = text.find("# ---- Generated by `make vendor`")
    tree = ast.parse(text if marker < 0 else text[:marker])
    return {node.name: ast.dump(node) for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_no_network_file_keeps_a_hand_copy_of_a_helper_another_file_has():
    """Every helper two files share lives in _shared.py: no function in one file's own part is identical to
    one in another's, and none repeats the source."""
    import ast

    shared_tree = ast.parse((NETWORKS / "_shared.py").read_text())
    seen = {ast.dump(node): "_shared.py" for node in shared_tree.body if isinstance(node, ast.FunctionDef)}
    assert len(seen) >= 10
    for path in FILES:
        for name, dump in _own_functions(path).items():
            if name == "create_variables":  # TF-Agents' hook must be a method; its one line calls the shared helper
                assert "_output_spec_from_zeros" in dump
                continue
            assert dump not in seen, f"{path.name}: {name} is a copy of {seen[dump]}'s; move it to _shared.py"
            seen[dump] = f"{path.name}:{name}"


def test_each_file_reads_its_own_logic_first_and_carries_only_the_helpers_it_uses():
    for path in FILES:
        text = path.read_text()
        own, _, block = text.partition("# ---- Generated by `make vendor`")
        assert block, f"{path.name} has no generated block"
        assert "\nclass " in own and "\nclass " not in block, path.name
        assert "_require_keras_2" in block and "_check_feed_forward" in block
    critic = (NETWORKS / "keras_critic_network.py").read_text()
    assert "def _num_actions" not in critic and "def _check_own_variables" not in critic
