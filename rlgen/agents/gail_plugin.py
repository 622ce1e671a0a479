"""GAIL's plug-in for the shared SB3 trainer: discriminator training and reward relabelling each round."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv

from rlgen.agents.gail import DiscriminatorConfig, GailConfig
from rlgen.data.demonstrations import Demonstrations
from rlgen.models.discriminator import Discriminator, discriminator_loss, gradient_penalty, reward_from_logits
from rlgen.models.standardizer import RunningStandardizer
from rlgen.models.state_file import restore_state, save_state
from rlgen.plots import plot_progress
from rlgen.sb3.normalization import find_vecnormalize
from rlgen.sb3.reward_relabel import RolloutRewardCallback
from rlgen.sb3.trainer import TrainerPlugin
from rlgen.sb3.transition_recorder import RolloutBatch, TransitionRecorder, encode_actions

MODEL_FILE = "gail_discriminator.pt"


class GailPlugin(TrainerPlugin):
    """Owns the discriminator, its optimiser, the expert features and the replay of policy features."""

    def __init__(
        self,
        disc: DiscriminatorConfig,
        gail: GailConfig,
        demos: Demonstrations,
        subsample: int,
        *,
        gamma: float,
        seed: int,
    ):
        self.cfg, self.gail_cfg, self.gamma = disc, gail, gamma
        self.rng = np.random.default_rng(seed)
        torch.manual_seed(seed)
        self.demos = demos.subsample(subsample, self.rng)
        # One absorbing sample per expert termination, each worth len(subsampled)/len(full) of an ordinary
        # sample, so absorbing states keep their per-step share of the full demos (see expert_sampling_p).
        self.expert_terminations = int(demos.terminated.sum())
        self.absorbing_weight = len(self.demos.obs) / max(len(demos.obs), 1)
        self.expert_p: np.ndarray | None = None
        self.recorder: TransitionRecorder | None = None
        self.disc: Discriminator | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.expert_x: torch.Tensor | None = None
        self.in_dim = 0
        self.replay = torch.zeros(0)
        self.reward_stats = RunningStandardizer(1)

    # ------------------------------------------------------------------ features

    def features(self, obs: np.ndarray, act: np.ndarray, next_obs: np.ndarray) -> torch.Tensor:
        """Discriminator inputs [s, a(, s')(, absorbing = 0)] for ordinary transitions."""
        parts = [obs.reshape(len(obs), -1), act.reshape(len(act), -1)]
        if self.cfg.use_next_obs:
            parts.append(next_obs.reshape(len(next_obs), -1))
        if self.gail_cfg.absorbing:
            parts.append(np.zeros((len(obs), 1), np.float32))
        return torch.from_numpy(np.concatenate(parts, axis=1).astype(np.float32))

    def absorbing_features(self, n: int) -> torch.Tensor:
        """The absorbing state (zeros with the indicator set), n copies (DAC, Section 4.2)."""
        x = torch.zeros(n, self.in_dim)
        x[:, -1] = 1.0
        return x

    def wrap_venv(self, venv: VecEnv) -> VecEnv:
        self.recorder = TransitionRecorder(venv)
        acts = encode_actions(self.demos.acts, venv.action_space)
        x = self.features(self.demos.obs, acts, self.demos.next_obs)
        self.in_dim = x.shape[1]
        if self.gail_cfg.absorbing and self.expert_terminations:
            x = torch.cat([x, self.absorbing_features(self.expert_terminations)])
            self.expert_p = self.expert_sampling_p()
        self.expert_x = x
        self.disc = Discriminator(x.shape[1], hidden=self.cfg.hidden)
        self.disc.input_stats.update(x)
        self.optimizer = torch.optim.Adam(self.disc.parameters(), lr=self.cfg.learning_rate)
        return self.recorder

    def expert_sampling_p(self) -> np.ndarray:
        """Batch-sampling probabilities of the expert rows: ordinary transitions 1, absorbing samples
        ``absorbing_weight``. The absorbing samples are counted on the full demos (one per termination)
        and subsampling keeps 1/k of the ordinary transitions, so without the weight the absorbing state
        would be k times more common in the expert data than in the policy's (which is not subsampled),
        the discriminator would rate it expert-like, and its reward (paid gamma / (1 - gamma) times at a
        termination) would teach the policy to end its episodes at once."""
        absorbing = np.full(self.expert_terminations, self.absorbing_weight)
        weights = np.concatenate([np.ones(len(self.demos.obs)), absorbing])
        return weights / weights.sum()

    def callbacks(self, model: BaseAlgorithm) -> list[BaseCallback]:
        return [RolloutRewardCallback(self.recorder, self.on_rollout, prefix="gail")]

    # ------------------------------------------------------------------ one GAIL round

    def on_rollout(self, rollout: RolloutBatch) -> tuple[np.ndarray, dict[str, float]]:
        """Train D on this rollout (Algorithm 1, step 4), then the policy's reward from the updated D."""
        x = self.features(rollout.flat("obs"), rollout.flat("act"), rollout.flat("next_obs"))
        terminated = torch.from_numpy(rollout.flat("terminated"))
        policy_x = x
        if self.gail_cfg.absorbing and terminated.any():
            policy_x = torch.cat([x, self.absorbing_features(int(terminated.sum()))])
        self._remember(policy_x)
        metrics = self.train_discriminator()
        reward = self.reward(x, terminated)
        metrics["reward_mean"] = float(reward.mean())
        return reward.numpy().reshape(rollout.shape) - rollout.rewards, metrics

    def _remember(self, policy_x: torch.Tensor) -> None:
        self.disc.input_stats.update(policy_x)
        if self.cfg.replay_size == 0:
            self.replay = policy_x
        else:
            self.replay = torch.cat([self.replay.reshape(-1, policy_x.shape[1]), policy_x])[-self.cfg.replay_size :]

    def train_discriminator(self) -> dict[str, float]:
        totals = {"disc_loss": 0.0, "disc_acc_expert": 0.0, "disc_acc_policy": 0.0}
        for _ in range(self.cfg.updates_per_round):
            expert = self.expert_x[torch.from_numpy(self.expert_batch_indices())]
            policy = self.replay[torch.from_numpy(self.rng.integers(0, len(self.replay), self.cfg.batch_size))]
            logits_e, logits_p = self.disc(expert), self.disc(policy)
            loss = discriminator_loss(logits_e, logits_p, entropy_coef=self.cfg.entropy_coef)
            if self.cfg.gradient_penalty > 0:
                loss = loss + self.cfg.gradient_penalty * gradient_penalty(self.disc, expert, policy)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            totals["disc_loss"] += float(loss.detach())
            totals["disc_acc_expert"] += float((logits_e > 0).float().mean())
            totals["disc_acc_policy"] += float((logits_p < 0).float().mean())
        n = max(self.cfg.updates_per_round, 1)
        return {key: value / n for key, value in totals.items()}

    def expert_batch_indices(self) -> np.ndarray:
        if self.expert_p is None:
            return self.rng.integers(0, len(self.expert_x), self.cfg.batch_size)
        return self.rng.choice(len(self.expert_x), self.cfg.batch_size, p=self.expert_p)

    @torch.no_grad()
    def reward(self, x: torch.Tensor, terminated: torch.Tensor) -> torch.Tensor:
        """The learned reward per transition (Ho & Ermon 2016, Algorithm 1, step 5 cost, as a reward)."""
        reward = reward_from_logits(self.disc(x), self.gail_cfg.reward)
        if self.gail_cfg.absorbing and terminated.any():
            # DAC: after termination the agent stays in the absorbing state; its discounted value is paid now.
            absorbing = reward_from_logits(self.disc(self.absorbing_features(1)), self.gail_cfg.reward)[0]
            reward = reward + terminated.float() * self.gamma / (1.0 - self.gamma) * absorbing
        if self.gail_cfg.normalize_reward:
            self.reward_stats.update(reward.unsqueeze(1))
            reward = reward / torch.sqrt(self.reward_stats.var[0].float() + 1e-8)
        return reward

    # ------------------------------------------------------------------ warm start and state

    def on_train_start(self, model: BaseAlgorithm) -> None:
        """Behaviour cloning on the demos: maximise the policy's log-likelihood of the expert's actions."""
        if self.gail_cfg.bc_epochs == 0:
            return
        obs = self.demos.obs
        norm = find_vecnormalize(model.get_env())
        if norm is not None and norm.norm_obs:
            norm.obs_rms.update(obs)  # start the observation statistics from the expert's states
            obs = norm.normalize_obs(obs)
        obs_t = torch.as_tensor(obs, dtype=torch.float32, device=model.device)
        acts_t = torch.as_tensor(self.demos.acts, device=model.device)
        policy = model.policy
        policy.set_training_mode(True)
        for _ in range(self.gail_cfg.bc_epochs):
            for idx in torch.randperm(len(obs_t)).split(self.gail_cfg.bc_batch_size):
                _, log_prob, _ = policy.evaluate_actions(obs_t[idx], acts_t[idx])
                loss = -log_prob.mean()
                policy.optimizer.zero_grad()
                loss.backward()
                policy.optimizer.step()
        policy.set_training_mode(False)
        model.logger.record("gail/bc_final_nll", float(loss.detach()))

    def plots(self, run_path: Path, plots_dir: Path) -> None:
        """The discriminator's accuracy on each side and the policy's mean learned reward, per round."""
        accuracy = {"gail/disc_acc_expert": "on expert samples", "gail/disc_acc_policy": "on policy samples"}
        plot_progress(run_path, accuracy, plots_dir / "gail_discriminator.png", ylabel="discriminator accuracy",
                      title="GAIL discriminator (0.5 = cannot tell them apart)")  # fmt: skip
        plot_progress(run_path, {"gail/reward_mean": f"{self.gail_cfg.reward} reward"}, plots_dir / "gail_reward.png",
                      ylabel="mean reward per step (as the policy gets it)",
                      title="GAIL reward on the policy's rollouts")  # fmt: skip

    def save(self, directory: Path) -> None:
        save_state(directory / MODEL_FILE, self._parts(), replay=self.replay)

    def load(self, directory: Path) -> None:
        self.replay = restore_state(directory / MODEL_FILE, "GAIL discriminator", self._parts())["replay"]

    def _parts(self) -> dict:
        return {"disc": self.disc, "optimizer": self.optimizer, "reward_stats": self.reward_stats}
