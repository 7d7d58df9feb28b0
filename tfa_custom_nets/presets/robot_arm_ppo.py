"""robot_arm_ppo: RobotArm-v0 with a mixed action — each joint's turn a float, the gripper a choice —
learned by TF-Agents' PPO through one multi-head Keras actor.

    python -m tfa_custom_nets.presets.robot_arm_ppo --seed 1     # or: tfa-nets train robot_arm_ppo --seed 1

The task is `robot_arm_bdq`'s (2 joints, turns of at most 0.2 rad, the same rewards and threshold 22),
with `continuous=True`: the action is `{"turn": Box(-0.2, 0.2, (2,)), "grip": Discrete(2)}`, where the
BDQ preset picks each turn from 5 bins. The actor is one Keras model, a 64x64 tanh trunk shared by three
heads (`turn_mean`, `grip_logits`, and no std head: PPO's state-independent log-std), wrapped by
`KerasActorDistributionNetwork` into a Normal for the turns and a Categorical for the gripper; PPO's
loss takes the sum of the two log-probabilities. The value model is its own 64x64 network (PPO steps
actor and value weights together, so a shared trunk would get each gradient twice).

PPO settings are the usual ones for 1M-step MuJoCo runs, scaled to 8 envs: 256 steps per env per rollout
(2,048 per update), 10 epochs over it, Adam 3e-4, GAE lambda 0.95, clip 0.2.
"""

import sys

import tfa_custom_nets  # noqa: F401  (first: keeps TensorFlow's start-up logs quiet)

# isort: split
from tfa_custom_nets.training import AgentConfig, EnvConfig, NetworkConfig, TrainConfig

CONFIG = TrainConfig(
    name="robot_arm_ppo",
    env=EnvConfig(id="tfa_custom_nets/RobotArm-v0", make_kwargs={"joints": 2, "continuous": True}),  # threshold 22
    network=NetworkConfig(model="tfa_custom_nets.models:dense_actor_model",
                          kwargs={"hidden_units": [64, 64], "activation": "tanh", "std_heads": False},
                          critic_model="tfa_custom_nets.models:dense_value_model",
                          critic_kwargs={"hidden_units": [64, 64], "activation": "tanh"},
                          actor_std="state_independent"),
    agent=AgentConfig(
        kind="ppo",
        learning_rate=3e-4,
        gamma=0.99,
        gae_lambda=0.95,
        clip_ratio=0.2,
        ppo_epochs=10,
        entropy_coef=0.0,
        gradient_clipping=0.5,
    ),
    total_env_steps=300_000,
    num_envs=8,
    update_every=2_048,       # one rollout: 256 steps of each env
    eval_interval=10_000,
    eval_episodes=20,
    checkpoint_interval=50_000,
)

if __name__ == "__main__":
    from tfa_custom_nets import cli

    sys.exit(cli.main(["train", "robot_arm_ppo", *sys.argv[1:]]))
