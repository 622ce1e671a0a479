"""The dream: C acting inside M (Ha & Schmidhuber 2018, Section 4.5). An episode starts from the encoding of
the first frame of a collected training episode; each step C reads [z, h], M's mixture (at temperature tau)
gives the next z, its reward head the reward and its done head (p > 0.5) the end of the episode.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import torch

from rlgen.agents.world_model.series import LatentSeries
from rlgen.agents.world_model.step import act_and_remember
from rlgen.envs.action_codec import ActionCodec
from rlgen.models.controller import Controller
from rlgen.models.mdn_rnn import MDNRNN, MDNOutput, sample_mixture

if TYPE_CHECKING:
    from rlgen.agents.world_model.agent import Parts
    from rlgen.agents.world_model.config import Config
    from rlgen.runs import RunDir


class Dream:
    def __init__(self, memory: MDNRNN, controller: Controller, codec: ActionCodec, series: LatentSeries, *,
                 use_h: bool, temperature: float, max_steps: int):  # fmt: skip
        self.memory, self.controller, self.codec, self.use_h = memory, controller, codec, use_h
        self.temperature, self.max_steps = temperature, max_steps
        starts = series.frame_start[np.array(series.split("train"))]
        self.start_mu = torch.from_numpy(series.mu[starts])
        self.start_std = torch.from_numpy(np.exp(series.log_std[starts]))

    def _rollout(self, seed: int, steps: int) -> Iterator[tuple[torch.Tensor, MDNOutput]]:
        """(next z, M's output) for each step; ``seed`` picks the start frame and drives M's sampling."""
        generator = torch.Generator().manual_seed(seed)
        first = int(torch.randint(len(self.start_mu), (1,), generator=generator))
        noise = torch.randn(1, self.start_mu.shape[1], generator=generator)
        z = self.start_mu[first : first + 1] + self.start_std[first : first + 1] * noise
        state = self.memory.initial_state(1)
        for _ in range(steps):
            _, h, state = act_and_remember(self.controller, self.codec, self.memory, z, state, use_h=self.use_h)
            out = self.memory.heads(h)
            z = sample_mixture(out.logits[:, 0], out.mu[:, 0], out.sigma[:, 0], self.temperature, generator)
            yield z, out

    @torch.no_grad()
    def play(self, seed: int) -> tuple[float, int]:
        """(return, steps) of one dream episode."""
        if self.memory.reward is None:
            raise ValueError("a dream episode's return needs M's reward head (memory.reward_head: true)")
        total, steps = 0.0, 0
        for _, out in self._rollout(seed, self.max_steps):
            total, steps = total + float(out.reward[0, 0]), steps + 1
            if out.done_logit is not None and float(out.done_logit[0, 0]) > 0:  # sigmoid(logit) > 0.5
                break
        return total, steps

    @torch.no_grad()
    def latents(self, seed: int, steps: int) -> torch.Tensor:
        """The z sequence (steps, D) of a dream episode, for decoding into a dream video."""
        return torch.cat([z for z, _ in self._rollout(seed, steps)])


def dream_of_run(config: Config, run: RunDir, parts: Parts, max_steps: int) -> Dream:
    """The dream of a trained run: its M and C, starting from the run's encoded training episodes."""
    from rlgen.agents.world_model.agent import uses_h
    from rlgen.agents.world_model.memory import MEMORY_DIR, SERIES_FILE

    series = LatentSeries.load(run / MEMORY_DIR / SERIES_FILE)
    return Dream(parts.memory, parts.controller, parts.codec, series, use_h=uses_h(config),
                 temperature=config.controller.dream_temperature, max_steps=max_steps)  # fmt: skip
