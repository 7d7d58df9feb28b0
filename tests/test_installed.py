"""The installed product: an sdist built from the checkout, a wheel built from that sdist, installed with no
source tree on the path (the environment's dependencies reused), then the documented commands that need no
checkout, run from a folder outside it: `tfa-nets --version`, `presets`, a short `train cartpole`, `eval` of
that run (and of the same run by the checkout's own install: a run directory moves between the two)."""

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.tiny import cli_sets, tiny_sets

REPO = Path(__file__).resolve().parents[1]
SHORT = cli_sets(tiny_sets({"eval_interval": 600, "num_envs": 2, "replay.batch_size": None, "replay.capacity": None,
                               "checkpoint_interval": None, "network.kwargs": {'hidden_units': [8]}}))


def build(what: str, source: Path, out: Path) -> Path:
    """setuptools' own PEP 517 hook (the environment's setuptools; no download, no build isolation)."""
    code = f"import sys; from setuptools import build_meta; print(build_meta.build_{what}(sys.argv[1]))"
    result = subprocess.run([sys.executable, "-c", code, str(out)], cwd=source, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return out / result.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_the_wheel_built_from_the_sdist_trains_and_evaluates_a_preset_outside_the_checkout(tmp_path):
    sdist = build("sdist", REPO, tmp_path / "dist")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "unpacked", filter="data")
    wheel = build("wheel", next((tmp_path / "unpacked").iterdir()), tmp_path / "dist")
    target, elsewhere = tmp_path / "installed", tmp_path / "elsewhere"
    elsewhere.mkdir()
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target",
                                str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-3000:]
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("TFA_NETS_EXPERIMENTS", None)

    def run(*args, executable=str(target / "bin" / "tfa-nets")):
        result = subprocess.run([executable, *args], cwd=elsewhere, env=env, capture_output=True, text=True,
                                timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    where = run("-c", "import tfa_custom_nets.networks, tfa_custom_nets; print(tfa_custom_nets.__file__)",
                executable=sys.executable)
    assert Path(where.strip()).is_relative_to(target)  # the wheel's copy, not the checkout's
    assert run("--version").strip().startswith("tfa-nets 0.")
    listed = run("presets")
    assert "cartpole  " in listed and "packaged: tfa_custom_nets.presets.cartpole" in listed
    assert "packaged: tfa_custom_nets.presets.pendulum_td3" in listed
    kinds = run("kinds")  # every registered kind loads from the installed package
    assert [line.split(":")[0] for line in kinds.splitlines() if not line.startswith(" ")] == [
        "dqn", "ddqn", "bdq", "sac", "ppo", "c51", "td3", "ddpg"]
    assert str(REPO) not in listed

    run_dir = elsewhere / "run"
    closing = run("train", "cartpole", "--run-dir", str(run_dir), *SHORT)
    assert f"evaluate:     tfa-nets eval {run_dir}" in closing
    assert json.loads((run_dir / "config.json").read_text())["network"]["model"] == \
        "tfa_custom_nets.presets.cartpole:build_q_model"
    scores = json.loads(run("eval", str(run_dir), "--episodes", "2", "--policy", "best"))
    assert scores["episodes"] == 2 and scores["eval_mean"] > 0
    # The checkout's install evaluates the installed package's run as it is (module references, no file paths).
    env.pop("PYTHONPATH")
    checkout = json.loads(run("eval", str(run_dir), "--episodes", "2", executable=str(Path(sys.executable).with_name(
        "tfa-nets"))))
    assert checkout["episodes"] == 2
