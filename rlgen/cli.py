"""``rlgen`` command line: thin argument parsing that dispatches to kinds, training and evaluation.

Every user error (an :class:`rlgen.errors.RlgenError`) prints one line to stderr and exits with 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from rlgen.errors import RlgenError

EPILOG = "Docs: README.md. Every run_configs/*.yaml accepts --debug for a run of a few seconds."


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args = parser.parse_args(argv)
    from rlgen.envs.make import use_headless_rendering

    use_headless_rendering()
    warnings.filterwarnings("ignore", module="pygame")
    try:
        return args.func(args, argv)
    except RlgenError as err:
        print(f"rlgen: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("rlgen: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rlgen",
        description="rlgen: reinforcement learning with generative models (VIME, GAIL, World Models).",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"rlgen {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser("train", help="train from a run config (or resume a run)", epilog=EPILOG)
    train.add_argument("config", nargs="?", help="run config YAML (e.g. run_configs/quickstart.yaml)")
    train.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a config value (repeatable), e.g. --set train.total_timesteps=5000",
    )
    train.add_argument("--seed", type=int, help="override the config's seed")
    train.add_argument("--run-dir", help="write the run here instead of runs/<name>__<seed>__<time>")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its latest checkpoint")
    train.add_argument(
        "--restart",
        metavar="STAGE",
        help="with --resume: train this stage again from scratch, keeping the old one as STAGE.replaced-N "
        "(world models: controller, e.g. a new C on the run's V and M with other --set controller.* values)",
    )
    train.add_argument("--debug", action="store_true", help="apply the config's debug: block (finishes in seconds)")
    train.set_defaults(func=_train)

    ev = sub.add_parser("evaluate", help="evaluate a run directory or an SB3 .zip policy", epilog=EPILOG)
    ev.add_argument("target", help="a run directory, or an SB3 .zip (then give --env, and --algo if not readable)")
    ev.add_argument("--episodes", type=_positive_int, help="number of episodes (default 10; world models 100)")
    _add_policy_args(ev)
    ev.add_argument("--video", type=Path, metavar="PATH.mp4", help="record the first episode (headless)")
    ev.add_argument("--json", type=Path, metavar="PATH", help="write the results as JSON")
    scores = ev.add_argument_group("image models (vae, flow, pixelcnn, gan, infogan runs)")
    scores.add_argument(
        "--inception-weights",
        type=Path,
        metavar="FILE",
        help="also the real Inception score and "
        "FID, with this local copy of pytorch-fid's pt_inception-2015-12-05 weights (never downloaded)",
    )
    scores.add_argument("--inception-samples", type=_positive_int, metavar="N", help="samples (and test images, "
                        "as many as the test split has) they are computed on (default 5000)")  # fmt: skip
    ev.set_defaults(func=_evaluate)

    col = sub.add_parser(
        "collect",
        help="record expert demonstrations (npz + JSON sidecar) or, with --frames, frame shards",
        epilog=EPILOG,
    )
    col.add_argument("--policy", required=True, help="a run directory, an SB3 .zip, or (frames only) random | brownian")
    col.add_argument("--episodes", type=_positive_int, required=True, help="number of episodes")
    col.add_argument(
        "--out", type=Path, required=True, help="output .npz (demos) or new folder (frames); never overwritten"
    )
    _add_policy_args(col)
    col.add_argument(
        "--min-return",
        type=_finite_float,
        metavar="R",
        help="demos only: discard episodes whose return is below R and play more in their place (an expert "
        "that now and then falls would teach the imitator to fall)",
    )
    frames = col.add_argument_group("frames (image models, world model)")
    frames.add_argument(
        "--frames",
        action="store_true",
        help="write frame shards (uint8 CxHxW, one .npz per episode) instead of demos; implied by random/brownian",
    )
    frames.add_argument("--size", type=_positive_int, default=64, help="frame height and width (default 64)")
    frames.add_argument(
        "--crop",
        type=int,
        nargs=4,
        metavar=("TOP", "BOTTOM", "LEFT", "RIGHT"),
        help="pixel bounds kept before resizing (default: CarRacing drops its dashboard, others keep all)",
    )
    frames.add_argument("--grayscale", action="store_true", help="one grey channel instead of RGB")
    frames.add_argument("--workers", type=_positive_int, default=1, help="parallel worker processes (default 1)")
    frames.add_argument("--max-steps", type=_positive_int, help="cap episodes at this many steps")
    col.set_defaults(func=_collect)

    smp = sub.add_parser("sample", help="draw a grid of samples from a generative run", epilog=EPILOG)
    smp.add_argument("run_dir", type=Path, help="a run directory of kind vae, flow, pixelcnn, gan or infogan")
    smp.add_argument("--n", type=_positive_int, default=64, help="number of images (default 64)")
    smp.add_argument("--out", type=Path, required=True, help="output PNG (never overwritten)")
    smp.add_argument("--temperature", type=float, help="prior temperature (flows, VAEs; default: the config's)")
    smp.add_argument(
        "--checkpoint",
        choices=("final", "best", "last"),
        default="final",
        help="final weights (default), best (validation bits/dim, or infogan's most informative) or last checkpoint",
    )
    smp.set_defaults(func=_sample)
    return parser


def _add_policy_args(parser: argparse.ArgumentParser) -> None:
    """Options shared by the commands that play a saved policy (evaluate, collect)."""
    parser.add_argument("--seed", type=int, default=0, help="episode i is reset with seed SEED+i (default 0)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--deterministic",
        dest="deterministic",
        action="store_true",
        default=True,
        help="take the policy's mean/greedy action (default)",
    )
    mode.add_argument("--stochastic", dest="deterministic", action="store_false", help="sample actions")
    parser.add_argument("--env", help="Gymnasium env id (needed for a bare .zip)")
    parser.add_argument("--algo", help="algorithm that saved a bare .zip (read from the zip when possible)")
    parser.add_argument(
        "--checkpoint",
        choices=("final", "best", "last"),
        default="final",
        help="which policy of a run directory (default: final, else last)",
    )


def _policy_options(args: argparse.Namespace):  # noqa: ANN202 - rlgen.evaluation.EvalOptions
    """The options of :func:`_add_policy_args` (plus --episodes and --video) as EvalOptions."""
    from rlgen.evaluation import EvalOptions

    options = EvalOptions(
        episodes=args.episodes,
        seed=args.seed,
        deterministic=args.deterministic,
        video=getattr(args, "video", None),
        checkpoint=args.checkpoint,
        algo=args.algo,
        env=args.env,
        inception_weights=getattr(args, "inception_weights", None),
    )
    samples = getattr(args, "inception_samples", None)
    return options if samples is None else dataclasses.replace(options, inception_samples=samples)


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _version() -> str:
    from rlgen import __version__

    return __version__


# --------------------------------------------------------------------------- train


def _train(args: argparse.Namespace, argv: list[str]) -> int:
    from rlgen.config import to_dict
    from rlgen.kinds import kind_module, load_run_config
    from rlgen.runs import RunDir

    if args.resume:
        config, run = _resumed_run(args, argv)
    else:
        if not args.config:
            raise RlgenError("give a run config (e.g. rlgen train run_configs/quickstart.yaml) or --resume RUN_DIR")
        if args.restart:
            raise RlgenError("--restart needs --resume RUN_DIR (it trains a stage of an existing run again)")
        config = load_run_config(args.config, overrides=args.set, debug=args.debug, seed=args.seed)
        module = kind_module(config.kind)
        if hasattr(module, "validate"):
            module.validate(config)
        name = config.run.name or Path(args.config).stem
        if args.debug:
            name += "-debug"
        seed = _get_path(config, module.SEED_KEY)
        run = RunDir.create(output_dir=config.run.output_dir, name=name, seed=seed, run_dir=args.run_dir)
        run.write_start(to_dict(config), argv)
    print(f"run directory: {run.path}")
    kind_module(config.kind).train(config, run)
    return 0


def _resumed_run(args: argparse.Namespace, argv: list[str]):  # noqa: ANN202 - (config, RunDir)
    """The run of ``--resume`` with its saved config and the allowed ``--set`` changes applied; with
    ``--restart STAGE`` that stage is set aside first, and its own keys may change too."""
    from rlgen.config import dump_yaml, to_dict
    from rlgen.kinds import kind_module, load_saved_config
    from rlgen.runs import RunDir, atomic_write_text

    if args.config or args.debug or args.seed is not None or args.run_dir:
        raise RlgenError(
            "--resume continues a run with its saved config; give only --resume RUN_DIR "
            "(and --set train.* to change the budget)"
        )
    run = RunDir.open(args.resume)
    config = load_saved_config(run.config_file)
    module = kind_module(config.kind)
    allowed = getattr(module, "RESUME_KEYS", ("train.",))
    if args.restart:
        stages = getattr(module, "RESTART_STAGES", {})
        if args.restart not in stages:
            can = f"only {', '.join(stages)}" if stages else "no stage"
            raise RlgenError(f"--restart {args.restart}: a {config.kind} run can restart {can}")
        allowed = allowed + stages[args.restart]
    refused = [s for s in args.set if not s.startswith(allowed)]
    if refused:
        stages = "" if args.restart else ", ".join(
            stage for stage, prefixes in getattr(module, "RESTART_STAGES", {}).items()
            if all(s.startswith(prefixes) for s in refused))  # fmt: skip
        restart = f"; --restart {stages} starts that stage afresh, where its keys may change" if stages else ""
        raise RlgenError(
            f"with --resume only {', '.join(k + '*' if k.endswith('.') else k for k in allowed)} can be "
            f"changed (the checkpoint fixes the rest){restart}"
        )
    config = load_saved_config(run.config_file, args.set)
    if (args.set or args.restart) and hasattr(module, "validate"):
        module.validate(config)  # a changed value must pass the checks a new run's would
    if args.restart:
        print(f"stage {args.restart} set aside: {module.restart_stage(run, args.restart)}")
    if args.set:
        atomic_write_text(run.config_file, dump_yaml(to_dict(config)))
    run.append_command(argv)
    return config, run


def _get_path(obj: object, dotted: str) -> object:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


# --------------------------------------------------------------------------- evaluate


def _evaluate(args: argparse.Namespace, argv: list[str]) -> int:
    options = _policy_options(args)
    target = Path(args.target)
    started = time.perf_counter()
    if target.is_dir():
        result, context = _evaluate_run(target, options)
    elif target.is_file():
        result, context = _evaluate_zip(target, options)
    else:
        raise RlgenError(f"nothing to evaluate at {target}: give a run directory or an SB3 .zip file")
    print(f"{target}: {result.format()}")
    if args.video:
        print(f"video: {args.video}")
    context["seconds"] = round(time.perf_counter() - started, 2)
    json_path = args.json
    if json_path is None and target.is_dir():
        episodes = len(getattr(result, "returns", ()))  # generative runs play no episodes
        name = f"{args.checkpoint}_{episodes}ep_seed{args.seed}" if episodes else args.checkpoint
        if options.inception_weights is not None:  # never overwrite, nor be overwritten by, a plain evaluation
            name += f"_inception{options.inception_samples}"
        json_path = target / "evaluations" / f"{name}.json"
    if json_path is not None:
        result.write_json(json_path, **context)
        print(f"results: {json_path}")
    return 0


def _evaluate_run(target: Path, options):  # noqa: ANN202
    from rlgen.kinds import kind_module, load_saved_config
    from rlgen.runs import RunDir

    if options.algo or options.env:
        raise RlgenError("--env and --algo are for bare .zip files; a run directory knows its env and algorithm")
    run = RunDir.open(target)
    config = load_saved_config(run.config_file)
    module = kind_module(config.kind)
    if not hasattr(module, "evaluate"):
        raise RlgenError(f"runs of kind {config.kind!r} cannot be evaluated with rlgen evaluate")
    if options.inception_weights is not None and not hasattr(module, "sample"):
        raise RlgenError(f"--inception-weights scores image samples; runs of kind {config.kind!r} draw none "
                         "(use it on a vae, flow, pixelcnn, gan or infogan run)")  # fmt: skip
    result = module.evaluate(config, run, options)
    context = {"target": str(target), "kind": config.kind, "checkpoint": options.checkpoint}
    if options.inception_weights is not None:  # in the JSON whichever path it goes to
        context["inception_weights"] = str(options.inception_weights)
    return result, context


def _evaluate_zip(target: Path, options):  # noqa: ANN202
    from rlgen.envs.config import EnvConfig
    from rlgen.sb3.evaluate import evaluate_zip

    if options.inception_weights is not None:
        raise RlgenError("--inception-weights scores an image model's samples; give its run directory, not a .zip")
    if not options.env:
        raise RlgenError(f"evaluating the bare policy file {target} needs --env ID (SB3 zips do not store it)")
    result = evaluate_zip(target, EnvConfig(id=options.env), options)
    return result, {"target": str(target), "env": options.env, "algo": options.algo}


# --------------------------------------------------------------------------- sample


def _sample(args: argparse.Namespace, argv: list[str]) -> int:
    from rlgen.kinds import kind_module, load_saved_config
    from rlgen.plots import save_image_grid
    from rlgen.runs import RunDir

    if args.out.suffix.lower() != ".png":
        raise RlgenError(f"--out must be a .png file, got {args.out}")
    if args.out.exists():
        raise RlgenError(f"{args.out} already exists; choose another --out (files are never overwritten)")
    if args.temperature is not None and args.temperature <= 0:
        raise RlgenError(f"--temperature must be > 0, got {args.temperature}")
    run = RunDir.open(args.run_dir)
    config = load_saved_config(run.config_file)
    module = kind_module(config.kind)
    if not hasattr(module, "sample"):
        raise RlgenError(
            f"runs of kind {config.kind!r} cannot be sampled; rlgen sample is for vae, flow, pixelcnn, gan, infogan"
        )
    images, levels = module.sample(config, run, args.n, args.temperature, args.checkpoint)
    save_image_grid(images, levels, args.out)
    print(f"{args.n} samples: {args.out}")
    return 0


# --------------------------------------------------------------------------- collect


def _collect(args: argparse.Namespace, argv: list[str]) -> int:
    if args.frames or args.policy in ("random", "brownian") or _is_world_model_run(Path(args.policy)):
        if args.min_return is not None:
            raise RlgenError("--min-return applies to expert demos, not to frame collection; drop it")
        return _collect_frames(args)
    from rlgen.data.demonstrations import check_new_demos_path
    from rlgen.sb3.collect import collect_demonstrations

    out = args.out
    env_cfg, zip_path, stats = _policy_files(args)  # a missing --policy is named before anything else
    check_new_demos_path(out)  # before spending time on the episodes
    options = _policy_options(args)
    demos = collect_demonstrations(
        zip_path, env_cfg, options, stats_path=stats, source=str(args.policy), min_return=args.min_return
    )
    demos.save(out)
    meta = demos.meta
    discarded = ""
    if args.min_return is not None:
        discarded = f", {meta['discarded_episodes']} discarded below {args.min_return:g}"
    print(
        f"{out}: {meta['n_episodes']} episodes, {meta['n_transitions']} transitions, expert return "
        f"{meta['expert_return_mean']:.2f} ± {meta['expert_return_std']:.2f} (random policy "
        f"{meta['random_return_mean']:.2f}){discarded}"
    )
    return 0


def _is_world_model_run(path: Path) -> bool:
    """A world-model run directory (collecting from it means frames: its controller acts on them)."""
    from rlgen.config import read_yaml_file
    from rlgen.runs import CONFIG_FILE

    if not (path / CONFIG_FILE).is_file():
        return False
    try:
        return read_yaml_file(path / CONFIG_FILE).get("kind") == "world_model"
    except RlgenError:
        return False


def _collect_frames(args: argparse.Namespace) -> int:
    import dataclasses

    from rlgen.collect_frames import EXPLORATION, FrameJob, collect_frames
    from rlgen.envs.config import EnvConfig
    from rlgen.envs.frames import FrameSpec
    from rlgen.envs.make import check_env_id

    if args.policy in EXPLORATION:
        if not args.env:
            raise RlgenError(f"--policy {args.policy} needs --env ID (e.g. --env CarRacing-v3)")
        check_env_id(args.env)
        env_cfg, zip_path, stats = EnvConfig(id=args.env), args.policy, None
    else:
        env_cfg, zip_path, stats = _policy_files(args)
    if args.max_steps:
        env_cfg = dataclasses.replace(env_cfg, max_episode_steps=args.max_steps)
    spec = FrameSpec(size=args.size, crop=tuple(args.crop) if args.crop else None, grayscale=args.grayscale)
    job = FrameJob(env=env_cfg, spec=spec, out=args.out, seed=args.seed, policy=str(zip_path), stats=stats,
                   algo=args.algo, deterministic=args.deterministic)  # fmt: skip
    meta = collect_frames(job, args.episodes, args.workers)
    print(
        f"{args.out}: {meta['episodes']} episodes, {meta['frames']} frames of {meta['frame_shape']} "
        f"(return {meta['return_mean']:.2f} ± {meta['return_std']:.2f}, {meta['seconds']:.1f}s)"
    )
    return 0


def _policy_files(args: argparse.Namespace):  # noqa: ANN202 - (EnvConfig, zip path, stats path | None)
    """The env config, policy zip and observation statistics named by --policy (a run dir or a zip)."""
    from rlgen.envs.config import EnvConfig

    policy = Path(args.policy)
    if policy.is_dir():
        from rlgen.kinds import load_saved_config
        from rlgen.runs import RunDir
        from rlgen.sb3.evaluate import run_policy_files

        run = RunDir.open(policy)
        config = load_saved_config(run.config_file)
        env_cfg = getattr(config, "env", None)
        if env_cfg is None:
            raise RlgenError(f"{policy} is a {config.kind!r} run without an env policy to collect from")
        if args.env and args.env != env_cfg.id:
            raise RlgenError(f"{policy} was trained on {env_cfg.id!r}, not --env {args.env!r}")
        if config.kind == "world_model":
            from rlgen.agents.world_model.evolution import load_controller_params

            load_controller_params(run, "final")  # a one-line error now if it has no controller yet
            return env_cfg, policy, None
        zip_path, stats = run_policy_files(run, args.checkpoint)
    elif policy.is_file():
        if not args.env:
            raise RlgenError(f"collecting from the bare policy file {policy} needs --env ID")
        env_cfg, zip_path, stats = EnvConfig(id=args.env), policy, None
    else:
        raise RlgenError(f"no policy at {policy}: give a run directory or an SB3 .zip file")
    return env_cfg, zip_path, stats
