"""DQN split into a replay server, actors and a learner, each its own process (Acme's and
TF-Agents' distributed design, on Reverb).

    tfa-nets launch cartpole --actors 2         # all roles on this machine (launch.py)
    # or each role by hand, on machines that reach the server's port:
    tfa-nets replay-server --config cartpole --port 8000 --checkpoint-dir /data/replay
    tfa-nets learner --config cartpole --replay replayhost:8000 --run-dir runs/cartpole_dist
    tfa-nets actor --config cartpole --replay replayhost:8000 --actor-id 0   # as many as wanted

Modules import one way: `launch` starts the roles as processes and knows only `shared`; each
role (`replay_server`, `actor`, `learner`) builds from `shared` and the training core.
Reverb listens on all interfaces with no authentication: keep the port on a trusted network.
"""

from tfa_custom_nets.replay import require_reverb

require_reverb("the distributed roles (replay server, actors, learner, launch)",
               "On this stack, train in one process: tfa-nets train PRESET")

from tfa_custom_nets.distributed.actor import run_actor  # noqa: E402  (after the check: they import reverb)
from tfa_custom_nets.distributed.launch import launch  # noqa: E402
from tfa_custom_nets.distributed.learner import run_learner  # noqa: E402
from tfa_custom_nets.distributed.replay_server import serve_replay  # noqa: E402
from tfa_custom_nets.distributed.shared import (  # noqa: E402
    READY,
    VARIABLES_TABLE,
    Role,
    SharedState,
    check_distributable,
    make_tables,
    wait_for_server,
)

__all__ = ["READY", "VARIABLES_TABLE", "Role", "SharedState", "check_distributable", "launch", "make_tables",
           "run_actor", "run_learner", "serve_replay", "wait_for_server"]
