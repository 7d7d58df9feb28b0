"""Silent failures turned into one clear message (or a defined behaviour): evaluation of an env without a
time limit, a replay server's port, an address nobody serves, names that would escape the runs folder, a
rollout the env batch cannot fill, an action the agent kind cannot take, a replay larger than memory."""

import socket
import time

import gymnasium as gym
import numpy as np
import pytest

from tests.conftest import ScriptedEnv
from tfa_custom_nets import envs
from tfa_custom_nets.replay import make_memory_buffer
from tfa_custom_nets.training import EVAL_MAX_EPISODE_STEPS, TrainConfig, evaluate, make_agent_for_env, override


class ConstantPolicy:
    """Action 0 for every row of a batch of time steps."""

    def action(self, time_step):
        class Step:
            action = np.zeros(len(time_step.step_type), np.int64)

        return Step


def test_an_env_without_a_time_limit_has_its_evaluation_episodes_cut_and_says_so(capsys):
    never_ends = [envs.load(ScriptedEnv()) for _ in range(3)]
    returns = evaluate(ConstantPolicy(), never_ends, seed=0, max_steps=50)
    assert returns.tolist() == [sum(range(1, 51))] * 3  # rewards 1..50: counted up to the cut
    assert "evaluation cut 3 of 3 episodes at 50 steps" in capsys.readouterr().err
    # Episodes that end before the cap are not cut, and nothing is said.
    ending = [envs.load(ScriptedEnv(terminate_at=4)) for _ in range(2)]
    assert evaluate(ConstantPolicy(), ending, seed=0, max_steps=50).tolist() == [10.0, 10.0]
    assert capsys.readouterr().err == ""


def test_the_evaluation_cap_is_the_envs_own_time_limit_else_the_documented_default(capsys):
    limited = [envs.load(gym.wrappers.TimeLimit(ScriptedEnv(), max_episode_steps=7))]
    assert evaluate(ConstantPolicy(), limited, seed=0).tolist() == [28.0]  # the env truncates itself at 7
    assert capsys.readouterr().err == ""  # its own limit: nothing was cut
    assert EVAL_MAX_EPISODE_STEPS == 10_000
    started = time.monotonic()
    assert evaluate(ConstantPolicy(), [envs.load(ScriptedEnv())], seed=0)[0] == sum(range(1, 10_001))
    assert "at 10000 steps" in capsys.readouterr().err and time.monotonic() - started < 60


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", ".", "x..y", "", "/abs", "run name"])
def test_a_name_that_would_leave_the_runs_folder_is_refused(name):
    with pytest.raises(ValueError, match="name must be letters, digits"):
        TrainConfig(name=name)


def test_a_rollout_the_env_batch_cannot_fill_exactly_is_refused_with_the_nearest_multiple():
    ppo = ["agent.kind='ppo'", "network.critic_model='tfa_custom_nets.models:dense_value_model'",
           "network.model='tfa_custom_nets.models:dense_actor_model'", "network.kwargs={}"]
    with pytest.raises(ValueError, match=r"update_every must be a multiple of num_envs \(it would become 102\)"):
        override(TrainConfig(), [*ppo, "num_envs=3", "update_every=100"])
    assert override(TrainConfig(), [*ppo, "num_envs=4", "update_every=100"]).update_every == 100
    assert override(TrainConfig(), ["num_envs=3", "update_every=4"]).update_every == 4  # off-policy: a ratio


class DictActionEnv(gym.Env):
    observation_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)

    def __init__(self, tuple_action=False):
        parts = [gym.spaces.Box(-1.0, 1.0, (2,), np.float32), gym.spaces.Discrete(2)]
        self.action_space = gym.spaces.Tuple(parts) if tuple_action else gym.spaces.Dict(turn=parts[0], grip=parts[1])


@pytest.mark.parametrize("kind", ["dqn", "ddqn", "bdq", "sac"])
@pytest.mark.parametrize("tuple_action", [False, True])
def test_an_agent_kind_that_cannot_take_the_envs_nested_action_says_which_and_what_to_use(kind, tuple_action):
    import tensorflow as tf

    sets = [f"agent.kind='{kind}'"]
    if kind == "sac":
        sets += ["network.critic_model='tfa_custom_nets.models:dense_critic_model'",
                 "network.model='tfa_custom_nets.models:dense_actor_model'", "network.kwargs={}"]
    config = override(TrainConfig(), sets)
    space = "Tuple" if tuple_action else "Dict"
    with pytest.raises(ValueError, match=f"agent.kind='{kind}' takes one action .* has a {space} action space "
                                         r".*Discrete \[\].*Fix: agent.kind='ppo'"):
        make_agent_for_env(config, envs.load(DictActionEnv(tuple_action)), tf.Variable(0, dtype=tf.int64))


def test_a_replay_larger_than_the_machines_memory_is_refused_before_allocating():
    import tensorflow as tf

    spec = {"pixels": tf.TensorSpec((84, 84, 4), tf.uint8)}  # 28,224 bytes a step
    with pytest.raises(ValueError, match=r"replay.capacity=1000000000 needs .* GiB .*28224 bytes per step.* Fix: "
                                         r"a smaller replay.capacity"):
        make_memory_buffer(spec, capacity=1_000_000_000)
    assert make_memory_buffer(spec, capacity=10).capacity == 10


@pytest.mark.reverb  # skipped with the reason where dm-reverb is missing (conftest)
def test_a_replay_server_port_that_is_busy_or_out_of_range_is_refused():
    from tfa_custom_nets.replay import check_port_free

    for port in (0, 65536, 99999, -1):
        with pytest.raises(ValueError, match="--port must be a TCP port from 1 to 65535"):
            check_port_free(port)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(ValueError, match=f"--port {busy.getsockname()[1]} is in use"):
            check_port_free(busy.getsockname()[1])


@pytest.mark.reverb  # skipped with the reason where dm-reverb is missing (conftest)
def test_a_role_pointed_at_an_address_nobody_serves_gives_up_with_how_to_start_the_server(capsys):
    from tfa_custom_nets.distributed import wait_for_server

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=f"no replay server answered at localhost:{port}: .* tries over 3 s .*"
                                           f"tfa-nets replay-server --config CONFIG --port {port}"):
        wait_for_server(f"localhost:{port}", timeout_s=3)
    assert time.monotonic() - started < 20
    assert f"waiting for the replay server at localhost:{port}" in capsys.readouterr().out
    with pytest.raises(ValueError, match="--replay must be HOST:PORT"):
        wait_for_server("localhost", timeout_s=1)


def test_a_mixed_precision_global_policy_is_named_instead_of_blamed_on_a_shared_layer():
    import tensorflow as tf

    tf.keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        with pytest.raises(ValueError, match=r"global dtype policy is 'mixed_float16'.*set_global_policy\('float32'\)"):
            make_agent_for_env(TrainConfig(), envs.load("CartPole-v1"), tf.Variable(0, dtype=tf.int64))
    finally:
        tf.keras.mixed_precision.set_global_policy("float32")


def test_a_config_edited_so_the_network_no_longer_fits_the_checkpoint_says_so_on_resume(tmp_path):
    import json

    from tfa_custom_nets.training import load_run_config, train_eval

    run_dir = tmp_path / "run"
    train_eval(override(TrainConfig(), ["total_env_steps=400", "replay.learning_starts=200", "eval_interval=400",
                                        "eval_episodes=2", "checkpoint_interval=200", "progress=False",
                                        "network.kwargs={'hidden_units': [8]}", f"run_dir={str(run_dir)!r}"]))
    (run_dir / "summary.json").unlink()  # as if it had been killed after its last checkpoint
    data = json.loads((run_dir / "config.json").read_text())
    data["network"]["kwargs"] = {"hidden_units": [16]}
    (run_dir / "config.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="its checkpoint does not fit the agent that its config.json builds .*"
                                         "restore config.json as the run wrote it"):
        train_eval(load_run_config(run_dir / "config.json").replace(run_dir=str(run_dir)), resume=True)


def test_the_best_evaluation_and_the_first_solve_are_booked_with_ties_going_to_the_later():
    from tfa_custom_nets.training import LoopState, record_evaluation

    state = LoopState()
    booked = [record_evaluation(state, mean, step, step / 100, threshold=20.0)
              for mean, step in [(10.0, 100), (20.0, 200), (20.0, 300), (5.0, 400), (19.9, 500)]]
    assert booked == [True, True, True, False, False]
    assert (state.best_eval_mean, state.best_eval_step) == (20.0, 300)  # the tie at 300 beat the 200
    assert (state.solved_at_step, state.solved_at_seconds) == (200, 2.0)  # the first at the threshold
    unsolvable = LoopState()
    record_evaluation(unsolvable, 1e9, 100, 1.0, threshold=None)
    assert unsolvable.solved_at_step is None and unsolvable.best_eval_step == 100


def test_a_lock_naming_this_process_is_taken_over_not_refused(tmp_path):
    import os

    from tfa_custom_nets.training import RUN_LOCK, make_run_dir

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / RUN_LOCK).write_text(str(os.getpid()))  # left by an earlier run in this same process
    assert make_run_dir(str(run_dir), "CartPole-v1", "x", 0) == run_dir
    assert (run_dir / RUN_LOCK).read_text() == str(os.getpid())
    # A live process that is not this one keeps it.
    (run_dir / RUN_LOCK).write_text(str(os.getppid()))
    with pytest.raises(FileExistsError, match=f"in use by process {os.getppid()}"):
        make_run_dir(str(run_dir), "CartPole-v1", "x", 0)


@pytest.mark.parametrize("value, refused", [(np.array([[0.0, 1.0]], np.float32), True),
                                            (np.array([[False, True]]), False)])
def test_a_bool_observation_space_refuses_floats_that_casting_would_change(value, refused):
    class BoolEnv(gym.Env):
        observation_space = gym.spaces.Box(0, 1, (1, 2), np.bool_)
        action_space = gym.spaces.Discrete(2)

        def reset(self, *, seed=None, options=None):
            return value, {}

    env = envs.load(BoolEnv())
    if refused:
        with pytest.raises(ValueError, match="expected dtype bool, got float32"):
            env.reset()
    else:
        assert env.reset().observation.dtype == np.bool_
