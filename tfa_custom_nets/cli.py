"""The `tfa-nets` command.

    tfa-nets train PRESET [--seed N] [--run-dir DIR] [--set key=value ...]
    tfa-nets train PRESET --resume RUN_DIR
    tfa-nets eval RUN_DIR [--policy final|best] [--episodes N] [--seed N]
    tfa-nets seeds PRESET --seeds 1-5 [--jobs 2] [--out DIR] [--set key=value ...]
    tfa-nets presets                 # the packaged presets and a user's own, with where each comes from
    tfa-nets --version

Across processes or machines (tfa_custom_nets/distributed/):

    tfa-nets launch PRESET --actors N [--seed N] [--run-dir DIR] [--set ...] [--resume RUN_DIR]
    tfa-nets replay-server --config CONFIG [--port P] [--checkpoint-dir DIR]
    tfa-nets learner --config CONFIG --replay HOST:PORT [--run-dir DIR] [--resume]
    tfa-nets actor --config CONFIG --replay HOST:PORT [--actor-id I] [--seed N]

CONFIG is a preset name, an experiment.py or a run's config.json; every role takes `--set`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tfa_custom_nets.training.run_config import load_config


def closing_lines(summary: dict) -> str:
    """What a finished run prints: where it is, its final and best greedy scores, how to evaluate it."""
    run_dir, threshold = summary["run_dir"], summary["threshold"]
    solved = ("" if threshold is None else
              f"; first reached {threshold:g} at env step {summary['solved_at_step']}" if summary["solved_at_step"]
              is not None else f"; never reached {threshold:g}")
    return "\n".join([
        f"run directory: {run_dir}",
        f"final policy: greedy mean {summary['eval_mean']:.1f} ± {summary['eval_std']:.1f} over "
        f"{summary['eval_episodes']} episodes after {summary['env_steps']} env steps "
        f"({summary['train_seconds']:.0f} s of training{solved})",
        f"best policy:  greedy mean {summary['best_eval_mean']:.1f} at env step {summary['best_eval_step']}",
        f"evaluate:     tfa-nets eval {run_dir} [--policy best]   (summary.json has every number)"])


def _train(args) -> int:
    from tfa_custom_nets.training import load_preset, load_run_config, override, train_eval
    from tfa_custom_nets.training.run_dir import resumable_run_dir

    config = load_preset(args.preset)
    if args.resume is not None:
        if args.set or args.seed is not None or args.run_dir is not None:
            raise ValueError("--resume continues a run with the config in its config.json; drop --set, --seed "
                             "and --run-dir (start a new run to change them).")
        run_dir = resumable_run_dir(args.resume)
        saved = load_run_config(run_dir / "config.json", trust=args.trust_config)
        if saved.name != config.name:
            raise ValueError(f"{run_dir} is a run of preset {saved.name!r}, not {config.name!r}: "
                             f"tfa-nets train {saved.name} --resume {run_dir}")
        summary = train_eval(saved.replace(run_dir=str(run_dir)), resume=True, empty_replay=args.empty_replay)
    else:
        config = override(config, args.set)
        typed = {"seed": args.seed, "run_dir": args.run_dir}
        summary = train_eval(config.replace(**{k: v for k, v in typed.items() if v is not None}),
                             empty_replay=args.empty_replay)  # refused there: it applies to a resume
    print(closing_lines(summary))
    return 0


def _eval(args) -> int:
    from tf_agents.policies import py_tf_eager_policy

    from tfa_custom_nets.training import evaluate, load_run_config, make_env

    if args.episodes < 1:
        raise ValueError(f"--episodes must be >= 1, got {args.episodes}.")
    run_dir = Path(args.run_dir)
    policy_dir = run_dir / {"final": "policy", "best": "best_policy"}[args.policy]
    if not (run_dir / "config.json").is_file() or not policy_dir.is_dir():
        raise ValueError(f"{run_dir} is not a finished run (needs config.json and {policy_dir.name}/).")
    env_config = load_run_config(run_dir / "config.json", trust=args.trust_config).env
    policy = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
        str(policy_dir), load_specs_from_pbtxt=True, batch_time_steps=False)
    eval_envs = [make_env(env_config) for _ in range(args.episodes)]
    scores = evaluate(policy, eval_envs, seed=args.seed)
    invalid = [env.invalid_actions for env in eval_envs]  # for envs that publish an action mask
    print(json.dumps({"run_dir": str(run_dir), "policy": args.policy, "env_id": env_config.id,
                      "episodes": args.episodes, "eval_mean": float(scores.mean()), "eval_std": float(scores.std()),
                      "eval_min": float(scores.min()), "eval_max": float(scores.max()),
                      "invalid_actions": None if invalid[0] is None else sum(invalid)}, indent=2))
    return 0


# The distributed commands load (and check) their config before importing the roles, which need dm-reverb.

def _replay_server(args) -> int:
    config = load_config(args.config, args.set, args.trust_config)
    from tfa_custom_nets.distributed import serve_replay

    serve_replay(config, port=args.port, checkpoint_dir=args.checkpoint_dir)
    return 0


def _actor(args) -> int:
    config = load_config(args.config, args.set, args.trust_config)
    from tfa_custom_nets.distributed import run_actor

    run_actor(config, args.replay, actor_id=args.actor_id, seed=args.seed, pull_every=args.pull_every,
              report_seconds=args.report_seconds, threads=args.threads, connect_timeout=args.connect_timeout)
    return 0


def _learner(args) -> int:
    config = load_config(args.config, args.set, args.trust_config)
    from tfa_custom_nets.distributed import run_learner

    if args.run_dir is not None:
        config = config.replace(run_dir=args.run_dir)
    if args.resume and config.run_dir is None:
        raise ValueError("learner --resume needs the run directory: --run-dir RUN_DIR.")
    summary = run_learner(config, args.replay, resume=args.resume, push_every=args.push_every,
                          connect_timeout=args.connect_timeout)
    print(closing_lines(summary))
    return 0


def _launch(args) -> int:
    if (args.preset is None) == (args.resume is None):
        raise ValueError("launch takes a PRESET for a new run, or --resume RUN_DIR to continue one (not both).")
    if args.resume is not None:
        if args.set or args.seed is not None or args.run_dir is not None:
            raise ValueError("--resume continues a run with the config in its config.json; drop --set, --seed "
                             "and --run-dir.")
        config = load_config(str(Path(args.resume) / "config.json"), [], args.trust_config).replace(
            run_dir=str(args.resume))
    else:
        config = load_config(args.preset, args.set)
        typed = {"seed": args.seed, "run_dir": args.run_dir}
        config = config.replace(**{k: v for k, v in typed.items() if v is not None})
    from tfa_custom_nets.distributed import launch

    return launch(config, args.actors, resume=args.resume is not None, max_restarts=args.max_restarts,
                  pull_every=args.pull_every, push_every=args.push_every, report_seconds=args.report_seconds)


def _seeds(args) -> int:
    from tfa_custom_nets.training import run_seeds, write_results

    out = Path(args.out or Path("experiments") / Path(args.preset).stem)
    results = run_seeds(args.preset, args.seeds, args.set, runs=args.runs, jobs=args.jobs,
                        random_episodes=args.random_episodes, from_runs=args.from_runs, trust=args.trust_config)
    path = write_results(results, out, args.results)
    print(path.with_suffix(".md").read_text() + f"\nwrote {path} and {path.with_suffix('.md')}")
    return 0


def _presets(args) -> int:
    from tfa_custom_nets.training import preset_files

    files = preset_files()
    width = max(map(len, files), default=0)
    print("\n".join(f"{name:{width}}  {'packaged: ' + source if isinstance(source, str) else source}"
                     for name, source in files.items()))
    return 0


def _kinds(args) -> int:
    from tfa_custom_nets.training import KINDS, agent_kind

    for name in KINDS:
        kind = agent_kind(name)
        options = ", ".join(f"{key}={value!r}" for key, value in kind.options.items())
        print(kind.describe() + (f"\n    agent.options (defaults): {options}" if options else ""))
    return 0


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("tfa_custom_nets")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tfa-nets", description="Custom Keras Q-models on TF-Agents DQN.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    trust = {"action": "store_true", "help": "load a run's config.json even if it names code outside the run's "
                                             "sources/ and outside tfa_custom_nets (it runs that code)"}
    train = commands.add_parser("train", help="train a preset and write a run directory")
    train.add_argument("preset", help="preset name (see `tfa-nets presets`) or path to an experiment.py")
    train.add_argument("--seed", type=int, help="seed (overrides the preset's)")
    train.add_argument("--run-dir", help="run directory (default runs/{env}__{preset}__{seed}__{time})")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config value, e.g. --set agent.learning_rate=3e-4 (repeatable)")
    train.add_argument("--resume", metavar="RUN_DIR",
                       help="continue this run from its last checkpoint (after a crash or kill)")
    train.add_argument("--empty-replay", action="store_true",
                       help="with --resume: continue although the replay's checkpoint is missing (random steps "
                            "refill the replay first)")
    train.add_argument("--trust-config", **trust)
    train.set_defaults(func=_train)

    evaluate = commands.add_parser("eval", help="evaluate a run's saved greedy policy")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--episodes", type=int, default=20)
    evaluate.add_argument("--seed", type=int, default=12345, help="seed of the first episode")
    evaluate.add_argument("--policy", choices=["final", "best"], default="final",
                          help="the policy at the end of training (policy/) or at its best evaluation (best_policy/)")
    evaluate.add_argument("--trust-config", **trust)
    evaluate.set_defaults(func=_eval)

    sets = {"action": "append", "default": [], "metavar": "KEY=VALUE", "help": "override a config value (repeatable)"}
    pull_every = {"type": int, "default": 100, "help": "actor env steps between weight pulls (default 100)"}
    push_every = {"type": int, "default": 100, "help": "learner updates between weight pushes (default 100)"}
    report = {"type": float, "default": 10.0, "help": "seconds between an actor's progress lines (default 10)"}
    connect = {"type": float, "default": 120.0, "metavar": "SECONDS",
               "help": "give up with a message if no replay server answers at --replay within this (default 120)"}
    config_help = "preset name, experiment.py or a run's config.json"

    launch = commands.add_parser("launch", help="replay server, learner and N actors as local processes")
    launch.add_argument("preset", nargs="?", help="preset name or path to an experiment.py")
    launch.add_argument("--actors", type=int, default=2, help="actor processes (default 2)")
    launch.add_argument("--seed", type=int, help="seed (overrides the preset's)")
    launch.add_argument("--run-dir", help="run directory (default runs/{env}__{preset}__{seed}__{time})")
    launch.add_argument("--set", **sets)
    launch.add_argument("--resume", metavar="RUN_DIR", help="continue this distributed run from its checkpoints")
    launch.add_argument("--max-restarts", type=int, default=3, help="restarts per actor that dies (default 3)")
    launch.add_argument("--pull-every", **pull_every)
    launch.add_argument("--push-every", **push_every)
    launch.add_argument("--report-seconds", **report)
    launch.add_argument("--trust-config", **trust)
    launch.set_defaults(func=_launch)

    server = commands.add_parser("replay-server", help="serve the replay and the policy weights (Reverb)")
    server.add_argument("--config", required=True, help=config_help)
    server.add_argument("--set", **sets)
    server.add_argument("--port", type=int, help="port (default: a free one, printed)")
    server.add_argument("--checkpoint-dir", help="Reverb checkpoints: loaded at start, written on the learner's "
                                                 "checkpoints")
    server.add_argument("--trust-config", **trust)
    server.set_defaults(func=_replay_server)

    learner = commands.add_parser("learner", help="train from a replay server and write the run directory")
    learner.add_argument("--config", required=True, help=config_help)
    learner.add_argument("--set", **sets)
    learner.add_argument("--replay", required=True, metavar="HOST:PORT", help="the replay server")
    learner.add_argument("--run-dir", help="run directory (default runs/{env}__{preset}__{seed}__{time})")
    learner.add_argument("--resume", action="store_true", help="continue --run-dir from its last checkpoint")
    learner.add_argument("--push-every", **push_every)
    learner.add_argument("--connect-timeout", **connect)
    learner.add_argument("--trust-config", **trust)
    learner.set_defaults(func=_learner)

    actor = commands.add_parser("actor", help="collect into a replay server with the learner's latest weights")
    actor.add_argument("--config", required=True, help=config_help)
    actor.add_argument("--set", **sets)
    actor.add_argument("--replay", required=True, metavar="HOST:PORT", help="the replay server")
    actor.add_argument("--actor-id", type=int, default=0, help="this actor's number (sets its default seed)")
    actor.add_argument("--seed", type=int, help="env and exploration seed (default: from the config's and the id)")
    actor.add_argument("--pull-every", **pull_every)
    actor.add_argument("--report-seconds", **report)
    actor.add_argument("--connect-timeout", **connect)
    actor.add_argument("--threads", type=int,
                       help="TensorFlow threads of this actor (default: the config's tf_threads, else 1: one actor "
                            "per core)")
    actor.add_argument("--trust-config", **trust)
    actor.set_defaults(func=_actor)

    seeds = commands.add_parser("seeds", help="train a preset once per seed and write its results table")
    seeds.add_argument("preset", help="preset name, experiment.py or a run's config.json")
    seeds.add_argument("--seeds", nargs="+", default=["1-5"], help="e.g. 1-5, 1,3,5 or 1 2 3 (default 1-5)")
    seeds.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override (repeatable)")
    seeds.add_argument("--jobs", type=int, default=1,
                       help="seeds trained at once, each in its own process (wall times then share the machine)")
    seeds.add_argument("--runs", default="runs/seeds", help="parent of the run directories (<preset>/seed<N>-<time>)")
    seeds.add_argument("--out", help="folder of the results files (default experiments/<preset>)")
    seeds.add_argument("--results", default="results", help="their name: NAME.json and NAME.md (default results)")
    seeds.add_argument("--random-episodes", type=int, default=100,
                       help="episodes of the uniform-random baseline on the same evaluation (0: none)")
    seeds.add_argument("--from-runs", metavar="STAMP", help="tabulate the finished runs of this stamp, no training")
    seeds.add_argument("--trust-config", **trust)
    seeds.set_defaults(func=_seeds)

    presets = commands.add_parser("presets", help="list the presets")
    presets.set_defaults(func=_presets)

    kinds = commands.add_parser("kinds", help="list the agent kinds (agent.kind) and the options each reads")
    kinds.set_defaults(func=_kinds)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs a command. Exit codes: 0 done, 2 a bad argument or config (a fix-it message), 130
    interrupted (Ctrl-C; a checkpoint saved where there was something to save), 1 anything else: one
    line naming the failure and where its full traceback was written."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt as stop:  # the training loop's `Interrupted` says what it saved
        print(f"tfa-nets: {stop}" if str(stop) else "tfa-nets: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001  (every failure ends in one line; the traceback is kept)
        where = f" (run directory {error.run_dir})" if getattr(error, "run_dir", None) else ""
        if isinstance(error, (ValueError, FileExistsError, TimeoutError)):
            kept = f"; full traceback in {error.traceback_path}" if getattr(error, "traceback_path", None) else ""
            print(f"tfa-nets: error: {error}{where}{kept}", file=sys.stderr)
            return 2
        path = getattr(error, "traceback_path", None) or _write_traceback(error)
        run_dir = sys.modules.get("tfa_custom_nets.training.run_dir")  # loaded where a run could fail to write
        says_all = run_dir is not None and isinstance(error, run_dir.StorageError)  # path, space and the fix
        what = f"{error}" if says_all else f"{type(error).__name__}: {error}{where}"
        print(f"tfa-nets: error: {what}; full traceback in {path}", file=sys.stderr)
        return 1


def _write_traceback(error: BaseException) -> str:
    """A failure before any run directory existed: its traceback in a temporary file."""
    import tempfile
    import traceback

    with tempfile.NamedTemporaryFile("w", prefix="tfa-nets-error-", suffix=".txt", delete=False) as f:
        f.write("".join(traceback.format_exception(error)))
    return f.name


if __name__ == "__main__":
    sys.exit(main())
