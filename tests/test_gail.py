"""GAIL: demonstrations, discriminator, reward forms, collect and train through the CLI."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import CONFIGS
from stable_baselines3.common.vec_env import DummyVecEnv

from rlgen.agents.gail import DiscriminatorConfig, GailConfig, expert_scores
from rlgen.agents.gail_plugin import GailPlugin
from rlgen.cli import main
from rlgen.data.demonstrations import Demonstrations
from rlgen.errors import RlgenError
from rlgen.models.discriminator import Discriminator, discriminator_loss, gradient_penalty, reward_from_logits


def random_demos(env_id: str, episodes: int, seed: int = 0, max_steps: int | None = None) -> Demonstrations:
    """Demos from a random policy (shapes and bookkeeping are what the tests need, not skill)."""
    env = gym.make(env_id, max_episode_steps=max_steps) if max_steps else gym.make(env_id)
    env.action_space.seed(seed)
    rows = {k: [] for k in ("obs", "acts", "next_obs", "rews", "terminated", "truncated", "episode")}
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        done = False
        while not done:
            act = env.action_space.sample()
            nxt, rew, term, trunc, _ = env.step(act)
            for key, value in zip(rows, (obs, act, nxt, rew, term, trunc, ep), strict=True):
                rows[key].append(value)
            obs, done = nxt, term or trunc
    arrays = {k: np.asarray(v) for k, v in rows.items()}
    arrays["obs"], arrays["next_obs"] = arrays["obs"].astype(np.float32), arrays["next_obs"].astype(np.float32)
    meta = {"env_id": env_id, "n_episodes": episodes, "expert_return_mean": 100.0, "random_return_mean": 0.0}
    return Demonstrations(**arrays, meta=meta)


def test_demos_round_trip_and_subsample(tmp_path):
    demos = random_demos("CartPole-v1", 5)
    demos.save(tmp_path / "d.npz")
    loaded = Demonstrations.load(tmp_path / "d.npz")
    assert loaded.n_episodes == 5 and loaded.meta["env_id"] == "CartPole-v1"
    np.testing.assert_array_equal(loaded.obs, demos.obs)
    np.testing.assert_allclose(loaded.episode_returns(), demos.episode_returns())
    sub = loaded.subsample(4, np.random.default_rng(0))
    assert len(sub.obs) < len(loaded.obs) / 3 and sub.n_episodes == 5
    assert loaded.first_episodes(2).n_episodes == 2
    with pytest.raises(RlgenError, match="never overwritten"):
        demos.save(tmp_path / "d.npz")


def absorbing_share(demos: Demonstrations, every: int) -> float:
    """Probability that an expert discriminator sample is the absorbing state, with subsampling ``every``."""
    plugin = GailPlugin(DiscriminatorConfig(), GailConfig(absorbing=True), demos, every, gamma=0.99, seed=0)
    plugin.wrap_venv(DummyVecEnv([lambda: gym.make("CartPole-v1")]))
    is_absorbing = plugin.expert_x[:, -1].numpy() == 1.0
    return float(plugin.expert_p[is_absorbing].sum())


def test_absorbing_share_does_not_grow_with_subsampling():
    """Subsampling must not make expert terminations look k times commoner than the policy's (DAC + GAIL)."""
    demos = random_demos("CartPole-v1", 6)  # random CartPole: every episode terminates, ~20 steps each
    full = absorbing_share(demos, 1)
    assert full == pytest.approx(6 / (len(demos.obs) + 6))
    assert absorbing_share(demos, 5) == pytest.approx(full)
    sub = demos.subsample(5, np.random.default_rng(0))
    assert sub.terminated.sum() < 6  # terminal transitions are not kept on purpose


def test_demos_rejections(tmp_path):
    demos = random_demos("Pendulum-v1", 2)
    demos.save(tmp_path / "ok.npz")
    loaded = Demonstrations.load(tmp_path / "ok.npz")
    with pytest.raises(RlgenError, match="recorded on 'Pendulum-v1'"):
        loaded.check_env(gym.make("CartPole-v1"), "CartPole-v1", "demos")
    with pytest.raises(RlgenError, match="observations have shape"):
        loaded.check_env(gym.make("MountainCarContinuous-v0"), "Pendulum-v1", "demos")
    arrays = {k: getattr(demos, k) for k in ("obs", "acts", "next_obs", "rews", "terminated", "truncated", "episode")}
    bad = dict(arrays, obs=arrays["obs"].copy())
    bad["obs"][3, 0] = np.nan
    with open(tmp_path / "nan.npz", "wb") as fh:
        np.savez(fh, **bad)
    with pytest.raises(RlgenError, match="NaN"):
        Demonstrations.load(tmp_path / "nan.npz")
    with open(tmp_path / "empty.npz", "wb") as fh:
        np.savez(fh, **{k: v[:0] for k, v in arrays.items()})
    with pytest.raises(RlgenError, match="no transitions"):
        Demonstrations.load(tmp_path / "empty.npz")
    (tmp_path / "corrupt.npz").write_bytes(b"not a zip")
    with pytest.raises(RlgenError, match="corrupt"):
        Demonstrations.load(tmp_path / "corrupt.npz")
    with pytest.raises(RlgenError, match="not found"):
        Demonstrations.load(tmp_path / "missing.npz")
    with open(tmp_path / "short.npz", "wb") as fh:
        np.savez(fh, **dict(arrays, acts=arrays["acts"][:-1]))
    with pytest.raises(RlgenError, match="rows"):
        Demonstrations.load(tmp_path / "short.npz")


def test_discriminator_separates_expert_from_random():
    torch.manual_seed(0)
    expert = torch.randn(2000, 4) * 0.3 + torch.tensor([1.0, -1.0, 0.5, 0.0])
    policy = torch.randn(2000, 4)
    disc = Discriminator(4, hidden=(32, 32))
    disc.input_stats.update(torch.cat([expert, policy]))
    opt = torch.optim.Adam(disc.parameters(), lr=3e-3)
    for _ in range(300):
        i = torch.randint(0, 2000, (128,))
        loss = discriminator_loss(disc(expert[i]), disc(policy[i]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        accuracy = ((disc(expert) > 0).float().mean() + (disc(policy) < 0).float().mean()) / 2
    assert accuracy > 0.9


def test_gradient_penalty_is_zero_for_unit_slope_and_ignores_input_units():
    torch.manual_seed(0)
    linear = Discriminator(3, hidden=())
    with torch.no_grad():
        linear.net[0].weight.copy_(torch.tensor([[0.6, 0.0, 0.8]]))  # |grad_z logit| = 1 everywhere
    x = torch.randn(64, 3)
    linear.input_stats.update(x)
    assert gradient_penalty(linear, x[:32], x[32:]).item() < 1e-10
    # Rescaling a raw input dimension (m/s -> mm/s) rescales its statistics, so the penalty is unchanged.
    disc = Discriminator(3, hidden=(8,))
    disc.input_stats.update(x)
    units = torch.tensor([1.0, 1000.0, 0.1])
    scaled = Discriminator(3, hidden=(8,))  # the same network, statistics fitted to the rescaled inputs
    scaled.net.load_state_dict(disc.net.state_dict())
    scaled.input_stats.update(x * units)
    torch.manual_seed(1)
    raw = gradient_penalty(disc, x[:32], x[32:])
    torch.manual_seed(1)
    torch.testing.assert_close(gradient_penalty(scaled, x[:32] * units, x[32:] * units), raw, rtol=1e-4, atol=1e-6)


def test_reward_forms_sign_and_ordering():
    logits = torch.tensor([-3.0, 0.0, 3.0])  # D = P(expert) rising
    for form in ("positive", "negative", "logit"):
        r = reward_from_logits(logits, form)
        assert torch.all(r[1:] > r[:-1]), form  # more expert-like -> more reward
    assert torch.all(reward_from_logits(logits, "positive") > 0)
    assert torch.all(reward_from_logits(logits, "negative") < 0)
    torch.testing.assert_close(reward_from_logits(logits, "logit"), logits)
    d = torch.sigmoid(logits)
    torch.testing.assert_close(reward_from_logits(logits, "positive"), -torch.log(1 - d))
    torch.testing.assert_close(reward_from_logits(logits, "negative"), torch.log(d))


def test_expert_scores():
    assert expert_scores(50.0, {"expert_return_mean": 100.0, "random_return_mean": 0.0}) == {
        "fraction_of_expert": 0.5,
        "normalized_score": 0.5,
    }
    scores = expert_scores(-400.0, {"expert_return_mean": -150.0, "random_return_mean": -1150.0})
    assert "fraction_of_expert" not in scores and scores["normalized_score"] == pytest.approx(0.75)


def test_collect_then_gail_through_cli_with_variable_length_episodes_and_resume(tmp_path, capsys):
    expert_run = tmp_path / "expert"
    assert (
        main(
            [
                "train",
                str(CONFIGS / "ppo_pendulum.yaml"),
                "--debug",
                "--run-dir",
                str(expert_run),
                "--set",
                "env.id=CartPole-v1",
                "--set",
                "algo.kwargs={n_steps: 64, n_epochs: 2}",
            ]
        )
        == 0
    )
    demos = tmp_path / "demos" / "cartpole.npz"
    assert main(["collect", "--policy", str(expert_run), "--episodes", "3", "--out", str(demos)]) == 0
    meta = json.loads(demos.with_suffix(".json").read_text())
    assert meta["env_id"] == "CartPole-v1" and meta["n_episodes"] == 3 and "random_return_mean" in meta
    assert main(["collect", "--policy", str(expert_run), "--episodes", "3", "--out", str(demos)]) == 2
    run = tmp_path / "gail"
    args = [
        "train",
        str(CONFIGS / "gail_pendulum.yaml"),
        "--debug",
        "--run-dir",
        str(run),
        "--set",
        "env.id=CartPole-v1",
        "--set",
        f"demos.path={demos}",
        "--set",
        "algo.kwargs={n_steps: 64}",
        "--set",
        "gail.absorbing=true",
        "--set",
        "gail.bc_epochs=1",
    ]
    assert main(args) == 0, capsys.readouterr().err
    assert (run / "gail_discriminator.pt").is_file() and (run / "demos_meta.json").is_file()
    header = (run / "progress.csv").read_text().splitlines()[0]
    assert "gail/disc_loss" in header and "rollout/ep_rew_mean" in header
    assert (run / "plots" / "gail_discriminator.png").is_file() and (run / "plots" / "gail_reward.png").is_file()
    assert main(["train", "--resume", str(run), "--set", "train.total_timesteps=1024"]) == 0
    assert "at step 512" in capsys.readouterr().out
    assert main(["evaluate", str(run), "--episodes", "2", "--json", str(tmp_path / "e.json")]) == 0
    result = json.loads((tmp_path / "e.json").read_text())
    assert "normalized_score" in result


def test_gail_rejects_demos_of_another_env(tmp_path, capsys):
    random_demos("Pendulum-v1", 1).save(tmp_path / "p.npz")
    code = main(
        [
            "train",
            str(CONFIGS / "gail_pendulum.yaml"),
            "--debug",
            "--run-dir",
            str(tmp_path / "r"),
            "--set",
            "env.id=CartPole-v1",
            "--set",
            f"demos.path={tmp_path / 'p.npz'}",
            "--set",
            "algo.kwargs={n_steps: 64}",
        ]
    )
    assert code == 2 and "recorded on 'Pendulum-v1'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_imitation_trajectory_round_trip():
    from types import SimpleNamespace

    from rlgen.data.imitation_compat import from_trajectories

    demos = random_demos("CartPole-v1", 3)  # variable-length, terminated episodes
    lengths = np.unique(demos.episode, return_counts=True)[1]
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    trajs = [
        SimpleNamespace(
            obs=np.concatenate([demos.obs[s : s + n], demos.next_obs[s + n - 1 : s + n]]),
            acts=demos.acts[s : s + n],
            terminal=bool(demos.terminated[s + n - 1]),
            rews=demos.rews[s : s + n],
        )
        for s, n in zip(starts, lengths, strict=True)
    ]
    back = from_trajectories(trajs, env_id="CartPole-v1")
    for name in ("obs", "acts", "next_obs", "terminated", "truncated", "episode"):
        np.testing.assert_array_equal(getattr(back, name), getattr(demos, name))
    np.testing.assert_allclose(back.meta["expert_return_mean"], demos.episode_returns().mean())
    no_rewards = from_trajectories([SimpleNamespace(obs=t.obs, acts=t.acts, terminal=False) for t in trajs], "X")
    assert no_rewards.meta["rewards"] == "missing" and no_rewards.truncated.sum() == 3
    with pytest.raises(RlgenError, match="len\\(obs\\) == len\\(acts\\) \\+ 1"):
        from_trajectories([SimpleNamespace(obs=demos.obs[:3], acts=demos.acts[:3], terminal=True)], "X")

    pytest.importorskip("imitation")
    from rlgen.data.imitation_compat import to_trajectories

    again = from_trajectories(to_trajectories(demos), env_id="CartPole-v1")
    np.testing.assert_array_equal(again.obs, demos.obs)
    np.testing.assert_array_equal(again.terminated, demos.terminated)


def test_collect_min_return_discards_failed_expert_episodes():
    from rlgen.evaluation import EvalOptions
    from rlgen.sb3.collect import _play_expert

    env = gym.make("CartPole-v1")
    act = lambda obs: int(obs[2] + 0.1 * obs[3] > 0.02)  # noqa: E731 - a balancing rule whose episodes vary
    plain, every, _ = _play_expert(env, act, EvalOptions(episodes=12, seed=0), None)
    threshold = float(np.median(every.returns))
    wanted = int(np.sum(np.array(every.returns) >= threshold)) - 1
    recorder, kept, discarded = _play_expert(env, act, EvalOptions(episodes=wanted, seed=0), threshold)
    assert min(kept.returns) >= threshold and len(kept.returns) == wanted and discarded > 0
    # the kept episodes are the plain run's passing ones, in order, renumbered 0..wanted-1
    passing = [r for r in every.returns if r >= threshold][:wanted]
    assert list(kept.returns) == passing
    assert sorted(set(recorder.rows["episode"])) == list(range(wanted))
    demos = Demonstrations(**recorder.arrays(env.action_space), meta={})
    np.testing.assert_allclose(demos.episode_returns(), passing)
    with pytest.raises(RlgenError, match="--min-return"):
        _play_expert(env, act, EvalOptions(episodes=2, seed=0), 1e9)
