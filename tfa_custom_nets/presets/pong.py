"""pong: ALE/Pong-v5 pixels with the Nature-DQN conv model on DdqnAgent.

    python -m tfa_custom_nets.presets.pong --seed 1      # or: tfa-nets train pong

The preset shows the pixel integration end to end: gymnasium's AtariPreprocessing
(84x84 grey, frame skip 4, no-op starts) and FrameStackObservation give `(4, 84, 84)`
uint8 stacks, channels first. They stay uint8 in the Reverb table (a quarter of
float32's memory) and the model scales them to [0, 1] and moves the channels last
for Keras' Conv2D. A full run needs many hours on a CPU; see README.md.
Deviations from Mnih et al. (2015) are named in the comments.
"""

import sys

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
import gymnasium as gym

from tfa_custom_nets.training import AgentConfig, EnvConfig, NetworkConfig, ReplayConfig, TrainConfig


def make_env(env_id, **make_kwargs):
    """`(4, 84, 84)` uint8 frame stacks from the raw ALE env."""
    import ale_py

    gym.register_envs(ale_py)
    ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)  # no banner per env
    env = gym.make(env_id, frameskip=1, **make_kwargs)  # AtariPreprocessing does the frame skip (max-pooled)
    env = gym.wrappers.AtariPreprocessing(env, noop_max=30, frame_skip=4, screen_size=84,
                                          terminal_on_life_loss=False, grayscale_obs=True)
    return gym.wrappers.FrameStackObservation(env, stack_size=4)


CONFIG = TrainConfig(
    name="pong",
    env=EnvConfig(
        id="ALE/Pong-v5",             # v5: sticky actions (p=0.25), full action set off (6 actions)
        make="tfa_custom_nets.presets.pong:make_env",
        threshold=18.0,               # Pong's own reward_threshold is unset; 18 of 21 is "solved" by convention
    ),
    network=NetworkConfig(model="tfa_custom_nets.models:nature_q_model", kwargs={"channels_first": True}),
    agent=AgentConfig(
        kind="ddqn",                  # paper: DQN
        learning_rate=1e-4,           # Adam; paper: RMSProp 2.5e-4
        gamma=0.99,
        loss="huber",                 # as in the paper
        gradient_clipping=10.0,
        target_update_period=1_000,   # hard copy; paper: every 10k updates
        target_update_tau=1.0,
        epsilon_start=1.0,
        epsilon_end=0.01,             # paper: 0.1
        epsilon_decay_steps=250_000,  # paper: 1M agent steps
    ),
    # Reverb, not the in-memory default: frames compress ~4.5x in its chunks (benchmarks/results/replay_memory.md)
    replay=ReplayConfig(capacity=100_000, batch_size=32, learning_starts=10_000,  # paper: 1M, 32, 50k
                        backend="reverb"),
    total_env_steps=2_000_000,        # agent steps (8M frames); paper: 50M
    update_every=4,                   # as in the paper
    eval_interval=50_000,
    eval_episodes=5,
    checkpoint_interval=50_000,
)

if __name__ == "__main__":
    from tfa_custom_nets import cli

    sys.exit(cli.main(["train", "pong", *sys.argv[1:]]))
