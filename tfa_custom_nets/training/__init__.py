"""Training: config, agent kinds, builders, the loop core, `train_eval`, presets and what a run writes.

    config.py         frozen dataclasses; derived values (total updates, seeds) have one definition here
    agent_config.py   the agent section of the config
    config_checks.py  the type and condition checks every config section runs
    kinds/            one module per agent kind (DQN family, BDQ, C51, SAC, PPO, TD3, DDPG) and their registry
    builders.py       env, agent and collect policy from a config
    process.py        thread pools, seeds and freed memory of the process a role runs in
    collection.py     the acting side: warm-up and collection through a PyDriver
    compiled_policy.py  a TF policy compiled once, called from Python
    update_step.py    k compiled updates per call, run beside collection
    evaluation.py     greedy evaluation, the threshold and the best policy
    episode_returns.py  training returns per env, for the progress bar and metrics
    metrics.py        the metrics log (CSV and TensorBoard), the plot, the machine a result came from
    checkpoints.py    LoopState, the run's TensorFlow checkpoint, RNG states
    run_dir.py        the run directory: made, marked, locked, prepared, resumed; storage errors
    run_config.py     the trusted-config rule and the portable copies of the files a config names
    refs.py           `module:function` and `file.py:function` resolved to the function
    presets.py        the packaged presets and a user's own folders
    seeds.py          a preset over several seeds: the runner, its results schema and table (`tfa-nets seeds`)
    loop_core.py      report cadence and the finish sequence every training role shares
    train_eval.py     the single-process run: build, warm up, loop, finish
"""

from tfa_custom_nets.training.builders import (
    branch_spec,
    make_agent,
    make_agent_for_env,
    make_collect_policy,
    make_env,
    make_q_network,
    make_train_envs,
)
from tfa_custom_nets.training.checkpoints import (
    LoopState,
    capture_rng_states,
    read_loop_state,
    restore_rng_states,
)
from tfa_custom_nets.training.collection import Collector, StepCounter
from tfa_custom_nets.training.compiled_policy import CompiledPyPolicy
from tfa_custom_nets.training.config import (
    EVAL_SEED_OFFSET,
    AgentConfig,
    EnvConfig,
    NetworkConfig,
    ReplayConfig,
    TrainConfig,
    from_dict,
    override,
)
from tfa_custom_nets.training.episode_returns import EpisodeReturns
from tfa_custom_nets.training.evaluation import (
    EVAL_MAX_EPISODE_STEPS,
    UniformRandomPyPolicy,
    evaluate,
    record_evaluation,
)
from tfa_custom_nets.training.kinds import KINDS, AgentKind, agent_kind
from tfa_custom_nets.training.metrics import machine, rss_mb
from tfa_custom_nets.training.presets import list_presets, load_preset, preset_files
from tfa_custom_nets.training.process import seed_everything, set_tf_threads
from tfa_custom_nets.training.refs import resolve_ref
from tfa_custom_nets.training.run_config import TRUSTED_REFS, load_config, load_run_config, portable_config
from tfa_custom_nets.training.run_dir import (
    RUN_LOCK,
    RUN_MARKER,
    StorageError,
    guarded_run_dir,
    make_run_dir,
    storage_failure,
)
from tfa_custom_nets.training.seeds import (
    SCHEMA,
    parse_seeds,
    preset_threshold,
    run_seeds,
    seeds_summary,
    seeds_table,
    train_seed,
    write_results,
)
from tfa_custom_nets.training.train_eval import train_eval
from tfa_custom_nets.training.update_step import Updater, make_train_step

__all__ = ["EVAL_MAX_EPISODE_STEPS", "EVAL_SEED_OFFSET", "KINDS", "RUN_LOCK", "RUN_MARKER", "TRUSTED_REFS",
           "AgentConfig", "AgentKind", "agent_kind",
           "Collector", "CompiledPyPolicy", "EnvConfig", "EpisodeReturns",
           "LoopState", "NetworkConfig", "ReplayConfig", "StepCounter", "TrainConfig", "UniformRandomPyPolicy",
           "Updater", "branch_spec", "capture_rng_states", "evaluate", "from_dict", "guarded_run_dir",
           "list_presets", "load_preset", "load_config", "SCHEMA", "parse_seeds", "preset_threshold", "run_seeds",
           "seeds_summary", "seeds_table", "train_seed", "write_results",
           "load_run_config", "machine", "make_agent", "make_agent_for_env", "make_collect_policy", "make_env",
           "make_q_network", "make_run_dir", "make_train_envs", "make_train_step",
           "override", "portable_config", "preset_files",
           "read_loop_state", "record_evaluation",
           "resolve_ref", "restore_rng_states", "rss_mb", "seed_everything", "set_tf_threads", "StorageError",
           "storage_failure", "train_eval"]
