"""Agent kinds as plug-ins: the registry, the checks each kind makes, and TD3, DDPG and C51 through the loop
(each one module in `training.kinds`), with TD3's delayed actor and targets checked update by update."""

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from tf_agents.specs import tensor_spec
from tf_agents.trajectories import time_step as ts

import tfa_custom_nets
from tests.tiny import tiny_sets
from tfa_custom_nets.training import (
    KINDS,
    TrainConfig,
    agent_kind,
    load_preset,
    make_agent_for_env,
    make_env,
    make_train_step,
    override,
    train_eval,
)

PACKAGE = Path(tfa_custom_nets.__file__).parent
SMALL = tiny_sets({"network.kwargs": {'hidden_units': [32, 32]}, "network.critic_kwargs": {'hidden_units': [32, 32]},
                   "replay.batch_size": 32, "total_env_steps": 400, "eval_interval": 200, "checkpoint_interval": 200})


def td3(*sets):
    return override(load_preset("pendulum_td3"), [*SMALL, *sets])


def test_every_registered_kind_loads_and_names_itself():
    assert list(KINDS)[:5] == ["dqn", "ddqn", "bdq", "sac", "ppo"]
    for name in KINDS:
        kind = agent_kind(name)
        assert kind.name == name and kind.describe().startswith(f"{name}: ")
    assert [name for name in KINDS if agent_kind(name).on_policy] == ["ppo"]
    assert [name for name in KINDS if agent_kind(name).epsilon_greedy] == ["dqn", "ddqn", "bdq", "c51"]


def test_the_loop_never_asks_which_kind_it_runs():
    pattern = re.compile(r"kind ==|kind !=|kind in |kind not in |isinstance\(.*Agent")
    found = [f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
             for folder in ("training", "distributed") for path in sorted((PACKAGE / folder).glob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert found == []


def _top_level_imports(path: Path) -> set[str]:
    """The package modules `path` imports when it is imported (not inside functions or TYPE_CHECKING)."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tfa_custom_nets"):
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names if alias.name.startswith("tfa_custom_nets")}
    return names


def test_no_module_imports_one_that_imports_it_back_and_none_is_over_400_lines():
    modules = {}
    for info in pkgutil.walk_packages([str(PACKAGE)], "tfa_custom_nets."):
        spec = importlib.util.find_spec(info.name)
        modules[info.name] = Path(spec.origin)
    modules["tfa_custom_nets"] = PACKAGE / "__init__.py"
    graph = {name: {m for m in _top_level_imports(path) if m in modules and m != name}
             for name, path in modules.items()}
    seen, stack, cycles = set(), [], []

    def visit(name):
        if name in stack:
            cycles.append(stack[stack.index(name):] + [name])
            return
        if name in seen:
            return
        seen.add(name)
        stack.append(name)
        for other in sorted(graph[name]):
            visit(other)
        stack.pop()

    for name in sorted(graph):
        visit(name)
    assert cycles == []
    long = {name: n for name, path in modules.items() if (n := len(path.read_text().splitlines())) > 400}
    assert long == {}


@pytest.mark.parametrize("sets, message", [
    (["agent.options={'policy_delay': 0}"], r"need an int policy_delay >= 1"),
    (["agent.options={'delay': 2}"], r"agent.options \['delay'\] mean nothing to agent.kind='td3'; it reads "
                                     r"\['exploration_noise', 'noise_clip', 'policy_delay', 'target_noise'\]"),
    (["agent.options={'exploration_noise': 'high'}"], r"options\['exploration_noise'\] must be a float"),
    (["replay.prioritized=True"], r"'td3' takes no prioritized replay; got replay.prioritized=True\. .*"
                                  r"\(dqn, ddqn, bdq\)"),
    (["agent.n_step_update=3"], "one-step transitions"),
    (["agent.exploration='ez_greedy'"], "explores with its own collect policy"),
    (["network.critic_model=None"], r"'td3' needs network.critic_model \(a Q\(s, a\) builder"),
])
def test_a_kind_refuses_what_it_cannot_do_with_the_fix(sets, message):
    with pytest.raises(ValueError, match=message):
        td3(*sets)


def test_c51_options_are_checked_and_its_model_builder_gets_the_atoms():
    with pytest.raises(ValueError, match=r"min_q_value < max_q_value"):
        override(load_preset("cartpole_c51"), ["agent.options={'min_q_value': 5.0, 'max_q_value': 1.0}"])
    config = override(load_preset("cartpole_c51"),  # --set replaces the whole dict: the other two from defaults
                      ["agent.options={'num_atoms': 11, 'max_q_value': 100.0}",
                       "network.kwargs={'hidden_units': [32]}"])
    env = make_env(config.env)
    agent, epsilon = make_agent_for_env(config, env, tf.Variable(0, dtype=tf.int64))
    env.close()
    assert agent._q_network.num_atoms == 11 and agent._support.shape == (11,)
    assert float(agent._support[0]) == -10.0 and float(agent._support[-1]) == 100.0  # min_q_value: the default
    assert float(epsilon()) == 1.0  # the DQN family's schedule: at its start before the warm-up ends
    assert config.replace(deterministic=True, num_envs=1).exact_resume


def _constant_batches(agent, seed):
    experience = tensor_spec.sample_spec_nest(agent.collect_data_spec, seed=seed, outer_dims=(32, 2))
    experience = experience._replace(step_type=tf.zeros_like(experience.step_type) + ts.StepType.MID,
                                     discount=tf.ones_like(experience.discount),
                                     reward=tf.random.uniform(experience.reward.shape, -1.0, 0.0, seed=seed))
    return iter(tf.data.Dataset.from_tensors((experience, ())).repeat())


def test_td3_updates_the_actor_and_the_targets_every_second_update_and_the_critics_every_update():
    config = td3("agent.target_update_tau=0.5", "agent.options={'policy_delay': 2}", "agent.target_update_period=2")
    env = make_env(config.env)
    agent, _ = make_agent_for_env(config, env, tf.Variable(0, dtype=tf.int64))
    env.close()
    train_step = make_train_step(agent, _constant_batches(agent, 1), config)
    nets = {"actor": agent._actor_network, "critic": agent._critic_network_1, "target": agent._target_critic_network_1,
            "target_actor": agent._target_actor_network}
    moved = []
    for _ in range(4):
        before = {name: [v.numpy() for v in net.variables] for name, net in nets.items()}
        train_step(1)
        critic_after = [v.numpy() for v in agent._critic_network_1.variables]
        changed = {name for name, net in nets.items()
                   if any(not np.array_equal(old, new.numpy()) for old, new in zip(before[name], net.variables))}
        moved.append(sorted(changed))
        if "target" in changed:  # a Polyak step of 0.5 towards the critic as it is after this update
            for old, new, online in zip(before["target"], nets["target"].variables, critic_after):
                np.testing.assert_allclose(new.numpy(), 0.5 * old + 0.5 * online, rtol=1e-5, atol=1e-6)
    # The critics move every update; the actor on updates 1 and 3 (TF-Agents steps it when the counter, before
    # the update, is a multiple of policy_delay), the targets on 2 and 4 (its Periodically counts after it).
    assert moved == [["actor", "critic"], ["critic", "target", "target_actor"],
                     ["actor", "critic"], ["critic", "target", "target_actor"]]
    twins = [agent._critic_network_1, agent._critic_network_2, agent._target_critic_network_1,
             agent._target_critic_network_2, agent._actor_network, agent._target_actor_network]
    ids = [{id(v) for v in net.variables} for net in twins]
    assert all(not a & b for i, a in enumerate(ids) for b in ids[i + 1:])  # no two networks share a variable


@pytest.mark.slow
@pytest.mark.parametrize("preset, sets", [
    ("pendulum_td3", []),
    ("pendulum_td3", ["agent.kind='ddpg'", "agent.options={'ou_stddev': 0.2}", "agent.target_update_period=1"]),
    ("cartpole_c51", ["num_envs=2", "agent.n_step_update=2"]),
])
def test_td3_ddpg_and_c51_train_through_the_loop_and_export_a_greedy_policy(tmp_path, preset, sets):
    run_dir = tmp_path / "run"
    config = override(load_preset(preset), [*SMALL, *sets, f"run_dir={str(run_dir)!r}"])
    summary = train_eval(config)
    assert summary["env_steps"] >= 400 and summary["updates"] == config.updates_due(summary["env_steps"]) > 0
    assert np.isfinite(summary["eval_mean"])
    policy = tf.saved_model.load(str(run_dir / "policy"))
    observation = tf.constant(np.random.default_rng(0).uniform(-1, 1, (8, *config_obs_shape(config))), tf.float32)
    step = ts.TimeStep(step_type=tf.zeros([8], tf.int32), reward=tf.zeros([8]), discount=tf.ones([8]),
                       observation=observation)
    actions = policy.action(step).action.numpy()
    again = policy.action(step).action.numpy()
    assert np.array_equal(actions, again)  # greedy: no exploration noise in the saved policy
    if preset == "pendulum_td3":
        assert actions.shape == (8, 1) and np.all(np.abs(actions) <= 2.0)
    else:
        assert set(actions.tolist()) <= {0, 1}


def config_obs_shape(config: TrainConfig):
    return {"Pendulum-v1": (3,), "CartPole-v1": (4,)}[config.env.id]


class Dqn2(agent_kind("dqn").__class__):
    """dqn2: DqnAgent again, registered from outside the package (a test of the registry alone)."""

    name = "dqn2"


def test_a_kind_registered_from_its_own_module_trains_with_nothing_else_changed(monkeypatch, tmp_path):
    monkeypatch.setitem(KINDS, "dqn2", f"{__name__}:Dqn2")
    config = override(TrainConfig(), ["agent.kind='dqn2'", "total_env_steps=300", "replay.learning_starts=100",
                                      "replay.batch_size=16", "eval_interval=300", "eval_episodes=2",
                                      "network.kwargs={'hidden_units': [16]}", "progress=False",
                                      f"run_dir={str(tmp_path / 'run')!r}"])
    assert config.kind.name == "dqn2" and config.kind.epsilon_greedy
    assert train_eval(config)["updates"] == 50
