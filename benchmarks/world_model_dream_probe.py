"""Can C be trained in this M's dream? Probes a world-model run whose M has a reward head: how well M predicts
the reward of held-out episodes (per step and summed over 50-step windows), and what the dream pays for
fixed actions held open-loop against the episode's recorded actions and what the real env paid.

A dream is exploitable when a fixed action the data never held for long (e.g. full left with gas, which
in the real env spins the car off the road) earns a dream return close to the recorded driving's.

A proxy, not the training dream: these dreams start from M's state teacher-forced on a held-out episode's
first steps (the training dreams start from a zero state at a first frame), and the real env plays the
fixed actions from a standing start, not from the recorded state. Like the training dream, a dream ends
when M's done head fires; the table gives the mean dream length. CarRacing only (3-d actions).

    python benchmarks/world_model_dream_probe.py RUN [--horizon 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from rlgen.agents.world_model.agent import load_parts
from rlgen.agents.world_model.memory import held_out_fit
from rlgen.agents.world_model.series import LatentSeries
from rlgen.kinds import load_run_config
from rlgen.models.mdn_rnn import MDNRNN, sample_mixture
from rlgen.runs import RunDir

FIXED_ACTIONS = {  # CarRacing's (steer, gas, brake)
    "straight, gas": [0.0, 1.0, 0.0],
    "left, gas": [-1.0, 1.0, 0.0],
    "right, gas": [1.0, 1.0, 0.0],
    "brake": [0.0, 0.0, 0.8],
    "no action": [0.0, 0.0, 0.0],
}


@torch.no_grad()
def dream_return(memory: MDNRNN, series: LatentSeries, episode: int, start: int, features: np.ndarray,
                 tau: float, seed: int) -> tuple[float, int]:  # fmt: skip
    """(return, steps) of M teacher-forced on the episode's first ``start`` (>= 1) steps, then dreaming
    open-loop on ``features`` until its done head fires (as ``rlgen.agents.world_model.dream``)."""
    generator = torch.Generator().manual_seed(seed)
    f0, s0 = series.frame_start[episode], series.step_start[episode]
    z = torch.from_numpy(series.mu[f0 : f0 + start + 1])[None]
    _, _, state = memory(z[:, :-1], torch.from_numpy(series.actions[s0 : s0 + start])[None])
    z, total, steps = z[:, -1:], 0.0, 0
    for feature in features:
        out, _, state = memory(z, torch.as_tensor(feature, dtype=torch.float32)[None, None], state)
        total, steps = total + float(out.reward.reshape(-1)[0]), steps + 1
        if out.done_logit is not None and float(out.done_logit.reshape(-1)[0]) > 0:  # sigmoid(logit) > 0.5
            break
        z = sample_mixture(out.logits[:, 0], out.mu[:, 0], out.sigma[:, 0], tau, generator)[:, None]
    return total, steps


def real_return(env_id: str, action: list[float], seed: int, horizon: int, settle: int = 50) -> float:
    """The real env's return over ``horizon`` steps of one fixed action, after ``settle`` idle steps (the
    zoom-in at the start of a CarRacing track)."""
    import gymnasium as gym

    env = gym.make(env_id)
    env.reset(seed=seed)
    total, idle = 0.0, np.zeros(len(action), np.float32)
    for step in range(settle + horizon):
        _, reward, terminated, truncated, _ = env.step(idle if step < settle else np.array(action, np.float32))
        total += float(reward) if step >= settle else 0.0
        if terminated or truncated:
            break
    env.close()
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--horizon", type=int, default=200, help="dream steps after each start")
    parser.add_argument("--starts", default="100,400", help="steps into each test episode where dreams start")
    parser.add_argument("--seeds", type=int, default=4, help="dreams per start and action")
    parser.add_argument(
        "--real-tracks",
        type=int,
        default=4,
        help="tracks (seeds 100,000+) on which the real env plays each fixed action",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    run = RunDir(args.run)
    config = load_run_config(run.path / "config.yaml")
    parts = load_parts(config, run)
    series = LatentSeries.load(run.path / "memory" / "series.npz")
    tau = config.controller.dream_temperature
    recorded = "real env (the recorded episode)"
    rows: dict[str, list[float]] = {recorded: [], "recorded actions": [], **{name: [] for name in FIXED_ACTIONS}}
    lengths: dict[str, list[int]] = {name: [] for name in rows if name != recorded}
    for episode in series.split("test"):
        s0 = series.step_start[episode]
        for start in (int(s) for s in args.starts.split(",")):
            if start < 1 or start + args.horizon > series.steps(episode):
                continue
            rows[recorded].append(float(series.rewards[s0 + start : s0 + start + args.horizon].sum()))
            plans = {"recorded actions": series.actions[s0 + start : s0 + start + args.horizon]}
            for name, action in FIXED_ACTIONS.items():
                plans[name] = np.repeat(parts.codec.features(np.array([action], np.float32)), args.horizon, 0)
            for name, features in plans.items():
                dreams = [dream_return(parts.memory, series, episode, start, features, tau, seed)
                          for seed in range(args.seeds)]  # fmt: skip
                rows[name].append(float(np.mean([total for total, _ in dreams])))
                lengths[name].extend(steps for _, steps in dreams)
    real = {name: [real_return(config.env.id, action, 100_000 + i, args.horizon) for i in range(args.real_tracks)]
            for name, action in FIXED_ACTIONS.items() if args.real_tracks > 0}  # fmt: skip
    stats = lambda v: {"mean": float(np.mean(v)), "std": float(np.std(v)), "n": len(v)}  # noqa: E731
    result = {"run": str(run.path), "tau": tau, "horizon": args.horizon, "fit": held_out_fit(parts.memory, series),
              "dream": {name: stats(v) for name, v in rows.items()},
              "dream_steps": {name: float(np.mean(v)) for name, v in lengths.items()},
              "real_from_track_start": {name: stats(v) for name, v in real.items()}}  # fmt: skip
    print(json.dumps(result["fit"]))
    print(f"\n| {args.horizon} steps of | dream from held-out frames (mean steps) | real env from a standing start |")
    print("|---|---|---|")
    for name, dream in result["dream"].items():
        here, steps = result["real_from_track_start"].get(name), result["dream_steps"].get(name)
        real_cell = f"{here['mean']:.1f} ± {here['std']:.1f}" if here else ""
        steps_cell = f" ({steps:.0f})" if steps is not None else ""
        print(f"| {name} | {dream['mean']:.1f} ± {dream['std']:.1f}{steps_cell} | {real_cell} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
