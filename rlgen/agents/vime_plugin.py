"""VIME's plug-in for the shared SB3 trainer: transition recording, the bonus, BNN training, saving."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv

from rlgen.agents.vime import BNNConfig, MedianNormalizer, VimeConfig
from rlgen.data.transition_pool import TransitionPool
from rlgen.models.bnn_dynamics import BNNDynamics, Transitions
from rlgen.models.state_file import restore_state, save_state
from rlgen.plots import plot_progress
from rlgen.sb3.reward_relabel import RolloutRewardCallback
from rlgen.sb3.trainer import TrainerPlugin
from rlgen.sb3.transition_recorder import RolloutBatch, TransitionRecorder, action_dim

MODEL_FILE = "vime_bnn.pt"
POOL_FILE = "vime_pool.npz"


class VimePlugin(TrainerPlugin):
    """Owns the BNN, its optimiser, the replay pool and the bonus normaliser."""

    def __init__(self, vime: VimeConfig, bnn: BNNConfig, *, seed: int):
        self.cfg, self.bnn_cfg = vime, bnn
        self.rng = np.random.default_rng(seed)
        torch.manual_seed(seed)
        self.recorder: TransitionRecorder | None = None
        self.dynamics: BNNDynamics | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.pool: TransitionPool | None = None
        self.normalizer = MedianNormalizer(vime.normalize_window)

    def wrap_venv(self, venv: VecEnv) -> VecEnv:
        self.recorder = TransitionRecorder(venv)
        obs_dim = int(np.prod(venv.observation_space.shape))
        act_dim = action_dim(venv.action_space)
        self.dynamics = BNNDynamics(
            obs_dim,
            act_dim,
            hidden=self.bnn_cfg.hidden,
            prior_sd=self.bnn_cfg.prior_sd,
            likelihood_sd=self.bnn_cfg.likelihood_sd,
            predict_delta=self.bnn_cfg.predict_delta,
        )
        self.optimizer = torch.optim.Adam(self.dynamics.bnn.parameters(), lr=self.bnn_cfg.learning_rate)
        self.pool = TransitionPool(self.cfg.pool_size, obs_dim, act_dim)
        return self.recorder

    def callbacks(self, model: BaseAlgorithm) -> list[BaseCallback]:
        return [RolloutRewardCallback(self.recorder, self.on_rollout, prefix="vime")]

    def on_rollout(self, rollout: RolloutBatch) -> tuple[np.ndarray, dict[str, float]]:
        """Bonus for the whole rollout with the current BNN, then the pool and BNN update (original order)."""
        flat = Transitions(*(torch.from_numpy(rollout.flat(k)) for k in ("obs", "act", "next_obs")))
        kl, bonus = self.bonus(flat)
        self.dynamics.observe(flat)
        self.pool.add(rollout.flat("obs"), rollout.flat("act"), rollout.flat("next_obs"))
        metrics = {
            "kl_mean": float(kl.mean()),
            "kl_median": float(np.median(kl)),
            "bonus_mean": float(bonus.mean()),
            "pool_size": len(self.pool),
        }
        metrics |= {f"bnn_{key}": value for key, value in self.train_bnn().items()}
        return bonus.reshape(rollout.shape), metrics

    # ------------------------------------------------------------------ the bonus

    def bonus(self, batch: Transitions) -> tuple[np.ndarray, np.ndarray]:
        """(raw KL, eta * normalised KL) per transition."""
        kl = self.dynamics.information_gain(
            batch,
            step_size=self.cfg.step_size,
            n_samples=self.bnn_cfg.n_samples,
            mode=self.cfg.info_gain,
            max_kl=self.cfg.max_kl,
        ).numpy()
        return kl, self.cfg.eta * self.normalizer(kl)

    def train_bnn(self) -> dict[str, float]:
        """Minibatch ELBO updates on the replay pool; mean metrics of the last updates."""
        if len(self.pool) < max(self.cfg.min_pool_size, 1) or self.cfg.updates_per_iteration == 0:
            return {}
        sums: dict[str, torch.Tensor] = {}
        kl_weight = self.bnn_cfg.kl_weight
        if kl_weight is None:
            kl_weight = self.cfg.batch_size / len(self.pool)
        for _ in range(self.cfg.updates_per_iteration):
            obs, act, next_obs = (torch.from_numpy(a) for a in self.pool.sample(self.cfg.batch_size, self.rng))
            terms = self.dynamics.elbo(
                Transitions(obs, act, next_obs), n_samples=self.bnn_cfg.n_samples, kl_weight=kl_weight
            )
            self.optimizer.zero_grad()
            terms.loss.backward()
            self.optimizer.step()
            for key in ("loss", "log_likelihood", "kl", "mse"):
                sums[key] = sums.get(key, 0.0) + getattr(terms, key).detach()
        return {key: float(value) / self.cfg.updates_per_iteration for key, value in sums.items()}

    # ------------------------------------------------------------------ state

    def plots(self, run_path: Path, plots_dir: Path) -> None:
        """The information gain (KL between the BNN's posteriors) per rollout: the curiosity signal."""
        plot_progress(run_path, {"vime/kl_mean": "mean", "vime/kl_median": "median"},
                      plots_dir / "vime_information_gain.png", ylabel="information gain per step (nats)",
                      title="VIME information gain on the policy's rollouts")  # fmt: skip

    def save(self, directory: Path) -> None:
        medians = torch.tensor(list(self.normalizer.medians), dtype=torch.float64)
        save_state(directory / MODEL_FILE, self._parts(), medians=medians)
        self.pool.save(directory / POOL_FILE)

    def load(self, directory: Path) -> None:
        state = restore_state(directory / MODEL_FILE, "VIME dynamics model", self._parts())
        self.normalizer.medians.clear()
        self.normalizer.medians.extend(float(m) for m in state["medians"])
        self.pool.load(directory / POOL_FILE)

    def _parts(self) -> dict:
        return {"dynamics": self.dynamics, "optimizer": self.optimizer}
