"""The World Models controller C (Ha & Schmidhuber 2018, Section 2.3): a_t = tanh(W_c [z_t h_t] + b_c), a
single linear layer on the latent and the LSTM's hidden state (867 parameters for z = 32, h = 256 and 3
actions), or a small MLP; trained by an evolution strategy through its flat parameter vector.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters


class Controller(nn.Module):
    """Linear (``hidden == 0``, the paper) or one-hidden-layer tanh MLP from features to actions in [-1, 1]."""

    def __init__(self, in_features: int, action_dim: int, hidden: int = 0):
        super().__init__()
        if hidden:
            self.net = nn.Sequential(nn.Linear(in_features, hidden), nn.Tanh(), nn.Linear(hidden, action_dim))
        else:
            self.net = nn.Linear(in_features, action_dim)
        self.requires_grad_(False)  # trained by an evolution strategy, never by gradients

    def forward(self, features: Tensor) -> Tensor:
        return torch.tanh(self.net(features))

    @property
    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def get_flat(self) -> np.ndarray:
        return parameters_to_vector(self.parameters()).double().numpy()

    def set_flat(self, vector: np.ndarray) -> None:
        """Load a flat parameter vector (the layout of :meth:`get_flat`)."""
        vector = np.asarray(vector, dtype=np.float64)
        if vector.shape != (self.parameter_count,):
            raise ValueError(f"expected {self.parameter_count} parameters, got shape {vector.shape}")
        with torch.no_grad():  # cast first: vector_to_parameters would otherwise make the weights float64
            vector_to_parameters(torch.as_tensor(vector, dtype=torch.float32), self.parameters())
