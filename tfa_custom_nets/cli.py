"""The `tfa-nets` command.

    tfa-nets train PRESET [--seed N] [--run-dir DIR] [--set key=value ...]
    tfa-nets train PRESET --resume RUN_DIR
    tfa-nets eval RUN_DIR [--episodes N] [--seed N]
    tfa-nets presets
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _train(args) -> int:
    from tfa_custom_nets.training import from_dict, load_preset, override, train_eval
    from tfa_custom_nets.training.train_eval import resumable_run_dir

    config = load_preset(args.preset)
    if args.resume is not None:
        if args.set or args.seed is not None or args.run_dir is not None:
            raise ValueError("--resume continues a run with the config in its config.json; drop --set, --seed "
                             "and --run-dir (start a new run to change them).")
        run_dir = resumable_run_dir(args.resume)
        saved = from_dict(json.loads((run_dir / "config.json").read_text()))
        if saved.name != config.name:
            raise ValueError(f"{run_dir} is a run of preset {saved.name!r}, not {config.name!r}: "
                             f"tfa-nets train {saved.name} --resume {run_dir}")
        summary = train_eval(override(saved, [f"run_dir={str(run_dir)!r}"]), resume=True)
        print(json.dumps(summary, indent=2))
        return 0
    sets = list(args.set)
    if args.seed is not None:
        sets.append(f"seed={args.seed}")
    if args.run_dir is not None:
        sets.append(f"run_dir={args.run_dir!r}")
    summary = train_eval(override(config, sets))
    print(json.dumps(summary, indent=2))
    return 0


def _eval(args) -> int:
    from tf_agents.policies import py_tf_eager_policy

    from tfa_custom_nets.training import from_dict
    from tfa_custom_nets.training.evaluation import evaluate
    from tfa_custom_nets.training.train_eval import make_env

    run_dir = Path(args.run_dir)
    config_path, policy_dir = run_dir / "config.json", run_dir / "policy"
    if not config_path.is_file() or not policy_dir.is_dir():
        raise SystemExit(f"tfa-nets eval: {run_dir} is not a finished run (needs config.json and policy/).")
    env_config = from_dict(json.loads(config_path.read_text())).env
    policy = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
        str(policy_dir), load_specs_from_pbtxt=True, batch_time_steps=False)
    eval_envs = [make_env(env_config) for _ in range(args.episodes)]
    scores = evaluate(policy, eval_envs, seed=args.seed)
    print(json.dumps({"run_dir": str(run_dir), "env_id": env_config.id, "episodes": args.episodes,
                      "eval_mean": float(scores.mean()), "eval_std": float(scores.std()),
                      "eval_min": float(scores.min()), "eval_max": float(scores.max())}, indent=2))
    return 0


def _presets(args) -> int:
    from tfa_custom_nets.training import list_presets

    print("\n".join(list_presets()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tfa-nets", description="Custom Keras Q-models on TF-Agents DQN.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a preset and write a run directory")
    train.add_argument("preset", help="preset name (see `tfa-nets presets`) or path to an experiment.py")
    train.add_argument("--seed", type=int, help="seed (overrides the preset's)")
    train.add_argument("--run-dir", help="run directory (default runs/{env}__{preset}__{seed}__{time})")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config value, e.g. --set agent.learning_rate=3e-4 (repeatable)")
    train.add_argument("--resume", metavar="RUN_DIR",
                       help="continue this run from its last checkpoint (after a crash or kill)")
    train.set_defaults(func=_train)

    evaluate = commands.add_parser("eval", help="evaluate a run's saved greedy policy")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--episodes", type=int, default=20)
    evaluate.add_argument("--seed", type=int, default=12345, help="seed of the first episode")
    evaluate.set_defaults(func=_eval)

    presets = commands.add_parser("presets", help="list the presets")
    presets.set_defaults(func=_presets)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileExistsError) as error:
        print(f"tfa-nets: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
