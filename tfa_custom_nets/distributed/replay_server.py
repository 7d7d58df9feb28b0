"""`tfa-nets replay-server`: the replay and variables tables on a Reverb server, until SIGINT/SIGTERM.

    tfa-nets replay-server --config cartpole --port 8000 --checkpoint-dir /data/replay

Reverb listens on all interfaces with no authentication or encryption: anyone who reaches the
port can read and write the replay and the weights. Keep it on a trusted network.
"""

from __future__ import annotations

import signal
import time

import reverb
from tf_agents.experimental.distributed import reverb_variable_container

from tfa_custom_nets.distributed.shared import READY, VARIABLES_TABLE, Role, check_distributable, make_tables
from tfa_custom_nets.replay.reverb_replay import table_name
from tfa_custom_nets.replay.reverb_tables import check_port_free, start_server
from tfa_custom_nets.training.config import TrainConfig


def serve_replay(config: TrainConfig, port: int | None = None, checkpoint_dir: str | None = None) -> None:
    """Runs the replay server. With `checkpoint_dir` it starts from the newest Reverb checkpoint
    there, and the learner's checkpoints write the replay's there."""
    check_distributable(config)
    if port is not None:
        check_port_free(port)  # before anything is built
    role = Role(config, config.seed)
    role.env.close()
    server = start_server(make_tables(config, role.agent, role.shared), port=port, checkpoint_dir=checkpoint_dir)
    address = f"localhost:{server.port}"
    client = reverb.Client(address)
    if client.server_info()[VARIABLES_TABLE].current_size == 0:
        # Initial (untrained) weights at env step 0, so that actors can start before the learner.
        reverb_variable_container.ReverbVariableContainer(address, [VARIABLES_TABLE]).push(role.shared.nest)
    name = table_name(config)
    loaded = int(client.server_info()[name].rate_limiter_info.insert_stats.completed)
    print(f"{READY} port {server.port} (table {name!r}, {loaded} items loaded; the port listens on all "
          "interfaces with no authentication)", flush=True)

    def stop(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)  # SIGTERM and Ctrl-C both stop the server cleanly
    try:
        while True:  # a Python sleep, not `server.wait()`: signal handlers run only between Python calls
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
