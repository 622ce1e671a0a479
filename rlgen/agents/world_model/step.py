"""One step of the agent in latent space, shared by the real-env policy and the dream (Ha & Schmidhuber
2018, Algorithm 1): a_t = C([z_t, h_t]) (or C(z_t)), then M's LSTM reads (z_t, a_t) into h_{t+1}."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rlgen.envs.action_codec import ActionCodec
from rlgen.models.controller import Controller
from rlgen.models.mdn_rnn import MDNRNN

State = tuple[torch.Tensor, torch.Tensor]


def act_and_remember(controller: Controller, codec: ActionCodec, memory: MDNRNN | None, z: torch.Tensor,
                     state: State | None, *, use_h: bool) -> tuple[Any, torch.Tensor | None, State | None]:  # fmt: skip
    """(env action, M's LSTM output h (1, 1, H) for the step, next LSTM state); no M: (action, None, None)."""
    features = torch.cat([z, state[0][0]], dim=1) if use_h else z
    action = codec.to_env(controller(features)[0].numpy())
    if memory is None:
        return action, None, None
    a = torch.from_numpy(codec.features(np.asarray(action)))
    h, state = memory.lstm(torch.cat([z, a], dim=1)[:, None], state)
    return action, h, state
