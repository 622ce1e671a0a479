"""Run evaluation episodes, summarise them, record videos; shared by every agent and `rlgen evaluate`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rlgen.errors import RlgenError

ActFn = Callable[[Any], Any]
# (episode, obs, action, reward, next_obs, terminated, truncated) for every step, e.g. to record demos
StepObserver = Callable[[int, Any, Any, float, Any, bool, bool], None]


@dataclass(frozen=True)
class EvalOptions:
    """What ``rlgen evaluate`` was asked for."""

    episodes: int | None = None
    """None: the kind's default (10; 100 tracks for world models)."""
    seed: int = 0
    deterministic: bool = True
    video: Path | None = None
    checkpoint: str = "final"
    """final (policy.zip at the end of training), best or last (checkpoints)."""
    algo: str | None = None
    env: str | None = None
    inception_weights: Path | None = None
    """Generative runs: also the real Inception score and FID, with this local weights file."""
    inception_samples: int = 5000


@dataclass(frozen=True)
class EvalResult:
    """Per-episode returns, lengths and (when the env reports it) success, plus agent-specific extras."""

    returns: tuple[float, ...]
    lengths: tuple[int, ...]
    successes: tuple[bool, ...] | None = None
    extras: dict[str, float] = field(default_factory=dict)

    @property
    def mean_return(self) -> float:
        return float(np.mean(self.returns))

    @property
    def std_return(self) -> float:
        return float(np.std(self.returns))

    @property
    def mean_length(self) -> float:
        return float(np.mean(self.lengths))

    @property
    def success_rate(self) -> float | None:
        return None if self.successes is None else float(np.mean(self.successes))

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "episodes": len(self.returns),
            "mean_return": self.mean_return,
            "std_return": self.std_return,
            "mean_length": self.mean_length,
        }
        if self.successes is not None:
            out["success_rate"] = self.success_rate
        out.update(self.extras)
        return out

    def format(self) -> str:
        """One human line: ``return -153.2 ± 81.0 over 10 episodes, length 200.0, success 90%``."""
        text = (
            f"return {self.mean_return:.2f} ± {self.std_return:.2f} over {len(self.returns)} episodes, "
            f"length {self.mean_length:.1f}"
        )
        if self.successes is not None:
            text += f", success rate {100 * self.success_rate:.0f}%"
        for key, value in self.extras.items():
            text += f", {key.replace('_', ' ')} {value:.3f}"
        return text

    def write_json(self, path: str | Path, **context: Any) -> None:
        payload = {**context, **self.summary(), "episodes_detail": asdict(self)}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(payload, indent=2))


class VideoRecorder:
    """Collect ``env.render()`` frames and write them as an MP4 (or GIF) with imageio."""

    def __init__(self, path: str | Path, fps: int = 30):
        self.path = Path(path)
        self.fps = fps
        self.frames: list[np.ndarray] = []

    def capture(self, env: gym.Env) -> None:
        frame = env.render()
        if frame is None:
            raise RlgenError("the env rendered nothing; it needs render_mode='rgb_array' for --video")
        self.frames.append(np.asarray(frame))

    def write(self) -> None:
        import imageio.v2 as imageio

        self.path.parent.mkdir(parents=True, exist_ok=True)
        kwargs = {"fps": self.fps}
        if self.path.suffix.lower() == ".mp4":
            kwargs["macro_block_size"] = 1  # keep odd frame sizes instead of resizing with a warning
        imageio.mimsave(self.path, self.frames, **kwargs)


def run_episodes(
    env: gym.Env,
    act: ActFn,
    *,
    episodes: int,
    seed: int,
    video: VideoRecorder | None = None,
    video_episodes: int = 1,
    observer: StepObserver | None = None,
) -> EvalResult:
    """Play ``episodes`` episodes with ``act(obs) -> action``; episode i is reset with seed ``seed + i``.

    Returns are the env's own rewards (no normalisation, no learned bonus). Success is read from
    ``info["is_success"]`` at the end of each episode when the env reports it.
    """
    returns, lengths, successes = [], [], []
    for episode in range(episodes):
        obs, info = env.reset(seed=seed + episode)
        recording = video is not None and episode < video_episodes
        if recording:
            video.capture(env)
        total, steps, done = 0.0, 0, False
        while not done:
            action = act(obs)
            next_obs, reward, terminated, truncated, info = env.step(action)
            if observer is not None:
                observer(episode, obs, action, float(reward), next_obs, terminated, truncated)
            obs = next_obs
            total += float(reward)
            steps += 1
            done = terminated or truncated
            if recording:
                video.capture(env)
        returns.append(total)
        lengths.append(steps)
        if "is_success" in info:
            successes.append(bool(info["is_success"]))
    if video is not None:
        video.write()
    has_success = len(successes) == episodes
    return EvalResult(tuple(returns), tuple(lengths), tuple(successes) if has_success else None)
