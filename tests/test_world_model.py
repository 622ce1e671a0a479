"""World model (issue 7): M's mixture likelihood and temperature, C's size, CMA-ES resume, executors, and the
pipeline through the CLI (debug budget, interrupt + resume mid-stage, evaluate with video, bad input)."""

from __future__ import annotations

import csv
import json
import math
import signal
import subprocess
import sys
import time

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import CONFIGS, assert_user_error, run_cli

from rlgen.agents.world_model.evolution import EvolutionTrainer
from rlgen.agents.world_model.memory import MemoryTrainer, held_out_fit
from rlgen.agents.world_model.series import LatentSeries
from rlgen.agents.world_model.workers import close_worker, play_task, setup_worker
from rlgen.cli import main
from rlgen.data.frame_shards import write_episode, write_manifest
from rlgen.envs.action_codec import ActionCodec
from rlgen.envs.wrappers import NegativeRunStop
from rlgen.errors import ConfigError
from rlgen.kinds import load_run_config
from rlgen.models.controller import Controller
from rlgen.models.mdn_rnn import MDNRNN, MDNOutput, mixture_log_prob, sample_mixture
from rlgen.parallel import make_executor
from rlgen.runs import RunDir

CARRACING = CONFIGS / "world_model_carracing.yaml"
DREAM = CONFIGS / "world_model_carracing_dream.yaml"


def test_mixture_log_prob_matches_brute_force():
    gen = torch.Generator().manual_seed(0)
    logits, mu = torch.randn(2, 3, 4, 5, generator=gen), torch.randn(2, 3, 4, 5, generator=gen)
    sigma, target = torch.rand(2, 3, 4, 5, generator=gen) + 0.1, torch.randn(2, 3, 4, generator=gen)
    ours = mixture_log_prob(logits, mu, sigma, target)
    pi = torch.softmax(logits.double(), -1)
    brute = torch.zeros(2, 3, 4, dtype=torch.float64)
    for index in np.ndindex(2, 3, 4):
        density = sum(
            float(pi[index][k]) / (math.sqrt(2 * math.pi) * float(sigma[index][k]))
            * math.exp(-((float(target[index]) - float(mu[index][k])) ** 2) / (2 * float(sigma[index][k]) ** 2))
            for k in range(5)
        )  # fmt: skip
        brute[index] = math.log(density)
    assert torch.allclose(ours.double(), brute, atol=1e-5)


def test_mdn_rnn_loss_is_the_nll_of_the_next_latent_on_unmasked_steps():
    torch.manual_seed(0)
    model = MDNRNN(3, 2, hidden=8, mixtures=2, reward_head=True, done_head=True)
    z, actions = torch.randn(1, 5, 3), torch.randn(1, 4, 2)
    rewards, dones, mask = torch.zeros(1, 4), torch.zeros(1, 4), torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    _, metrics = model.loss(z, actions, rewards, dones, mask)
    out, _, _ = model(z[:, :-1], actions)
    expected = -mixture_log_prob(out.logits, out.mu, out.sigma, z[:, 1:])[0, :3].mean()
    assert metrics["z_nll"] == pytest.approx(float(expected), rel=1e-5)
    z_changed = z.clone()
    z_changed[0, 4] += 10.0  # the target of the masked step
    assert model.loss(z_changed, actions, rewards, dones, mask)[1]["z_nll"] == pytest.approx(metrics["z_nll"])


def test_temperature_zero_is_deterministic_and_picks_the_likeliest_component():
    gen = torch.Generator().manual_seed(1)
    logits, mu, sigma = torch.randn(6, 4, 5, generator=gen), torch.randn(6, 4, 5, generator=gen), torch.ones(6, 4, 5)
    first, second = sample_mixture(logits, mu, sigma, 0.0), sample_mixture(logits, mu, sigma, 0.0)
    assert torch.equal(first, second)
    assert torch.equal(first, mu.gather(-1, logits.argmax(-1, keepdim=True)).squeeze(-1))
    cold = sample_mixture(logits, mu, sigma, 1e-6, torch.Generator().manual_seed(2))
    assert torch.allclose(cold, first, atol=1e-2)
    warm = [sample_mixture(logits, mu, sigma, 1.0, torch.Generator().manual_seed(s)) for s in (3, 4)]
    assert not torch.allclose(*warm)
    with pytest.raises(ValueError, match="temperature"):
        sample_mixture(logits, mu, sigma, -1.0)


def test_controller_parameter_count_matches_the_paper():
    controller = Controller(32 + 256, 3)
    assert controller.parameter_count == 867  # Ha & Schmidhuber 2018, Section 4.3
    params = np.arange(867) / 867.0
    controller.set_flat(params)
    assert np.allclose(controller.get_flat(), params)
    with pytest.raises(ValueError, match="867"):
        controller.set_flat(np.zeros(5))
    assert Controller(32, 3, hidden=16).parameter_count == 32 * 16 + 16 + 16 * 3 + 3


def test_vision_likelihood_auto_is_the_papers_l2_for_the_conv_decoder():
    vae = load_run_config(CONFIGS / "world_model_carracing.yaml").vision
    pixelcnn = load_run_config(CONFIGS / "world_model_carracing_pixelcnn.yaml").vision
    chosen = load_run_config(CONFIGS / "world_model_carracing.yaml", overrides=["vision.likelihood=logistic"])
    assert (vae.head, pixelcnn.head, chosen.vision.head) == ("l2", "logistic", "logistic")
    assert (vae.auxiliary_weight, pixelcnn.auxiliary_weight) == (0.0, 100.0)  # AGAVE's r(x|z) for pixelcnn
    with pytest.raises(ConfigError, match="'aux_weight' .* encoder: pixelcnn only"):
        load_run_config(CONFIGS / "world_model_carracing.yaml", overrides=["vision.aux_weight=1"])


def test_action_codec_maps_controller_outputs_onto_the_action_space():
    box = gym.spaces.Box(np.array([-1.0, 0.0, 0.0]), np.array([1.0, 1.0, 1.0]), dtype=np.float32)
    assert np.allclose(ActionCodec(box).to_env(np.array([0.5, -1.0, 0.0])), [0.5, 0.0, 0.5])  # rescaled
    carracing = ActionCodec(box, "CarRacing-v3")  # steer, gas, brake: the brake is clipped (World Models code)
    assert np.allclose(carracing.to_env(np.array([0.5, 0.0, 0.0])), [0.5, 0.5, 0.0])
    assert np.allclose(carracing.to_env(np.array([0.0, -1.0, -0.7])), [0.0, 0.0, 0.0])
    discrete = ActionCodec(gym.spaces.Discrete(3))
    assert discrete.to_env(np.array([0.1, 0.9, -0.5])) == 1
    assert discrete.features(np.array([2, 0])).tolist() == [[0, 0, 1], [1, 0, 0]]


def test_negative_run_stop_truncates_after_a_run_of_negative_rewards():
    env = NegativeRunStop(gym.make("Pendulum-v1"), patience=5)  # Pendulum's reward is never positive
    env.reset(seed=0)
    truncations = [env.step(np.zeros(1, np.float32))[3] for _ in range(5)]
    assert truncations == [False] * 4 + [True]


class _QuadraticExecutor:
    """Fitness -(|theta - 0.5|^2), a stand-in for episodes, to test CMA-ES bookkeeping quickly."""

    def imap(self, items):
        return [(-float(np.sum((params - 0.5) ** 2)), 1) for _, params, _ in items]


def test_cma_es_improves_and_resume_replays_to_the_same_state(tmp_path):
    config = load_run_config(CARRACING, debug=True, overrides=["controller.population=6", "controller.rollouts=2"])
    run = RunDir(tmp_path)
    trainer = EvolutionTrainer(config, run, size=10)
    rows = [trainer._generation(_QuadraticExecutor(), g) for g in range(12)]
    assert rows[-1]["fitness_mean"] > rows[0]["fitness_mean"] + 0.5  # CMA-ES maximises the fitness
    trainer.checkpoint()
    resumed = EvolutionTrainer(config, run, size=10)
    np.random.rand(7)  # other users of numpy's global generator must not change CMA-ES's candidates
    resumed.restore()
    assert np.allclose(resumed.es.mean, trainer.es.mean) and resumed.best_fitness == trainer.best_fitness
    assert np.allclose(resumed._cma("ask"), trainer._cma("ask"))
    assert trainer.seeds(3) == resumed.seeds(3) and len(set(trainer.seeds(3)) & set(trainer.seeds(4))) == 0


class _ScriptedEvaluations(_QuadraticExecutor):
    """Quadratic training fitness; evaluation returns from a script, one per evaluation; records the seeds."""

    def __init__(self, returns):
        self.returns, self.eval_seeds = iter(returns), []

    def imap(self, items):
        if items[0][0] != "eval":
            return super().imap(items)
        value = next(self.returns)
        self.eval_seeds.append([seed for _, _, seed in items])
        return [(value, 1) for _ in items]


def test_best_evaluation_keeps_the_mean_that_scored_best_on_held_out_tracks(tmp_path):
    from rlgen.agents.world_model.evolution import EVAL_SEEDS, load_controller_params

    config = load_run_config(CARRACING, debug=True, overrides=["controller.population=6", "controller.eval_episodes=3"])
    run = RunDir(tmp_path)
    trainer, executor = EvolutionTrainer(config, run, size=10), _ScriptedEvaluations([10.0, 5.0, 10.0])
    means = []
    for generation in range(1, 4):
        trainer._generation(executor, generation - 1)
        means.append(np.array(trainer.es.mean))
        trainer._evaluate_mean(executor, generation)
    assert not np.allclose(means[0], means[1])
    assert trainer.best_eval_generation == 1 and np.array_equal(trainer.best_eval, means[0])  # ties keep the first
    assert executor.eval_seeds == [[EVAL_SEEDS, EVAL_SEEDS + 1, EVAL_SEEDS + 2]] * 3  # not rlgen evaluate's 0, 1, 2
    trainer.checkpoint()
    assert np.array_equal(load_controller_params(run, "best"), means[0])
    assert np.array_equal(load_controller_params(run, "last"), means[2])
    resumed = EvolutionTrainer(config, run, size=10)
    resumed.restore()
    assert (resumed.best_eval_return, resumed.best_eval_generation) == (10.0, 1)
    assert np.array_equal(resumed.best_eval, means[0])


def _tiny_series(episodes: int, steps: int, dim: int = 3) -> LatentSeries:
    rng = np.random.default_rng(0)
    frames = episodes * (steps + 1)
    return LatentSeries(mu=rng.normal(size=(frames, dim)).astype(np.float32),
                        log_std=np.full((frames, dim), -1.0, np.float32),
                        actions=rng.uniform(-1, 1, (episodes * steps, 3)).astype(np.float32),
                        rewards=np.zeros(episodes * steps, np.float32), terminated=np.zeros(episodes * steps, bool),
                        frame_start=np.arange(episodes + 1) * (steps + 1), step_start=np.arange(episodes + 1) * steps,
                        test=np.arange(episodes) == episodes - 1)  # fmt: skip


def test_memory_min_updates_adds_epochs_on_small_data(tmp_path):
    series = _tiny_series(episodes=3, steps=20)  # 2 training episodes: 40 steps = 5 windows of 8 = 2 updates
    for min_updates, epochs, updates in ((0, 2, 4), (7, 4, 8)):
        config = load_run_config(CARRACING, debug=True, overrides=[f"memory.min_updates={min_updates}"])
        (tmp_path / str(min_updates)).mkdir()
        trainer = MemoryTrainer(config, RunDir(tmp_path / str(min_updates)), series)
        trainer.train()
        rows = list(csv.DictReader((tmp_path / str(min_updates) / "memory" / "progress.csv").open()))
        assert len(rows) == trainer.epoch == epochs
        assert all(int(state["step"]) == updates for state in trainer.optimizer.state.values())


class _ExpectedReward(torch.nn.Module):
    """One N(0, 1) component per dimension and a reward head that outputs the expected reward of each step."""

    def __init__(self, expected: np.ndarray, steps: int):
        super().__init__()
        self.expected, self.steps = expected, steps

    def forward(self, z, actions):
        start = int(actions[0, 0, 0]) * self.steps  # the fixture's first action feature is the episode index
        ones = torch.ones(*z.shape, 1)
        return MDNOutput(ones * 0, ones * 0, ones, torch.from_numpy(self.expected[start : start + self.steps])[None],
                         None), None, None  # fmt: skip


def test_held_out_fit_scores_m_on_the_test_episodes():
    series = _tiny_series(episodes=4, steps=500)
    series.test[:] = [False, False, True, True]
    series.actions[:, 0] = np.repeat(np.arange(4), 500)
    rng = np.random.default_rng(1)
    spike_rate = np.repeat(rng.choice([0.0, 0.1, 0.4], size=40), 50)  # standing, slow, fast: a tile every 1/p steps
    series.rewards[:] = np.where(rng.random(2000) < spike_rate, 3.0, -0.1)  # CarRacing-like spikes
    expected = (spike_rate * 3.1 - 0.1).astype(np.float32)
    expected[:1000] = 5.0  # a training episode's prediction must not count
    fit = held_out_fit(_ExpectedReward(expected, 500), series, window=50)
    z = np.concatenate([series.mu[1003:1503], series.mu[1504:2004]])  # the next latents of test episodes 2 and 3
    nll = np.mean(0.5 * z**2 + 0.5 * math.log(2 * math.pi))
    assert fit["test_z_nll_at_posterior_means"] == pytest.approx(float(nll), rel=1e-5)
    # the best possible head: each spike's timing is noise per step, but the window sums follow the expectation
    assert 0.1 < fit["reward_r2_per_step"] < 0.4 and fit["reward_r_50_step_sums"] > 0.9
    series.rewards[:] = -0.1  # no variance: the reward figures are left out, not NaN
    assert set(held_out_fit(_ExpectedReward(expected, 500), series)) == {"test_z_nll_at_posterior_means"}


@pytest.fixture(scope="module")
def debug_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("wm") / "run"
    assert main(["train", str(CARRACING), "--debug", "--run-dir", str(run)]) == 0
    return run


def _play(kind: str, workers: int, run, items):
    executor = make_executor(kind, workers, setup_worker, str(run), play_task, teardown=close_worker)
    try:
        return list(executor.imap(items))
    finally:
        executor.close()


@pytest.mark.timeout(600)  # a Ray actor that is never scheduled would otherwise hang the run
def test_process_and_ray_executors_give_the_same_fitness(debug_run):
    rng = np.random.default_rng(0)
    size = np.load(debug_run / "controller" / "controller_mean.npy").size
    items = [("train", rng.normal(0, 0.5, size), seed) for _ in range(2) for seed in (11, 12)]
    inline = _play("process", 1, debug_run, items)
    assert len({ret for ret, _ in inline}) > 1  # the candidates and tracks do differ
    assert _play("process", 2, debug_run, items) == inline
    ray = pytest.importorskip("ray")
    try:
        assert _play("ray", 1, debug_run, items[:1]) == inline[:1]  # starts a local Ray with 1 CPU
        assert _play("ray", 2, debug_run, items) == inline  # restarts it with 2: the second actor is scheduled
    finally:
        ray.shutdown()


def test_debug_run_writes_every_stage(debug_run):
    for name in ("stages.json", "frames/manifest.json", "vision/model.pt", "vision/reconstructions.png",
                 "memory/series.npz", "memory/mdn_rnn.pt", "memory/dream.gif", "memory/plots/memory_loss.png",
                 "controller/controller_mean.npy", "controller/plots/fitness.png", "controller/dream.gif"):  # fmt: skip
        assert (debug_run / name).is_file(), name
    assert json.loads((debug_run / "stages.json").read_text()) == ["collect", "vision", "memory", "controller"]
    assert "active_units" in json.loads((debug_run / "vision" / "metrics.json").read_text())
    assert json.loads((debug_run / "memory" / "metrics.json").read_text())["test_z_nll_at_posterior_means"] > -10


def _generations(run, controller: str = "controller") -> list[int]:
    with open(run / controller / "progress.csv", newline="") as fh:
        return [int(row["generation"]) for row in csv.DictReader(fh)]


def test_pipeline_interrupted_mid_stage_resumes_then_evaluates_with_video(tmp_path):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "rlgen", "train", str(DREAM), "--debug", "--run-dir", str(run),
           "--set", "controller.generations=200"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    progress, deadline = run / "controller" / "progress.csv", time.time() + 180
    while not (progress.is_file() and len(progress.read_text().splitlines()) >= 3):
        assert proc.poll() is None and time.time() < deadline, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err and "--resume" in err, err
    done_before = _generations(run)
    assert 2 <= len(done_before) < 200

    result = run_cli("train", "--resume", str(run), "--set", f"controller.generations={len(done_before) + 3}")
    assert result.returncode == 0, result.stderr
    assert "stage vision: finished earlier, skipped" in result.stdout
    assert f"resuming at generation {len(done_before)}" in result.stdout
    assert _generations(run) == list(range(1, len(done_before) + 4))

    video = tmp_path / "carracing.mp4"
    result = run_cli("evaluate", str(run), "--episodes", "2", "--video", str(video))
    assert result.returncode == 0, result.stderr
    assert "return" in result.stdout and "over 2 episodes" in result.stdout
    assert video.stat().st_size > 1000
    assert (run / "evaluations" / "final_2ep_seed0.json").is_file()
    vision = run_cli("train", "--resume", str(run), "--set", "vision.epochs=3")
    assert_user_error(vision, "controller.generations")
    assert "--restart" not in vision.stderr  # restarting the controller would not let vision.* change
    assert_user_error(run_cli("train", "--resume", str(run), "--set", "controller.eval_episodes=9"), "--restart")
    assert_user_error(run_cli("train", "--resume", str(run), "--restart", "vision"), "only controller")
    assert_user_error(run_cli("train", str(DREAM), "--restart", "controller"), "--resume")
    result = run_cli("train", "--resume", str(run), "--restart", "controller",
                     "--set", "controller.rollouts=2", "--set", "controller.generations=2")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "stage memory: finished earlier, skipped" in result.stdout and _generations(run) == [1, 2]
    old_controller = run / "controller.replaced-1"  # a new C on the same V and M; the old one is kept
    assert _generations(old_controller.parent, old_controller.name) == list(range(1, len(done_before) + 4))
    assert (old_controller / "evaluations" / "final_2ep_seed0.json").is_file()
    frames = tmp_path / "frames_from_controller"  # the paper's iterative procedure: collect with the trained C
    result = run_cli("collect", "--policy", str(run), "--episodes", "2", "--max-steps", "10", "--out", str(frames))
    assert result.returncode == 0, result.stderr
    assert json.loads((frames / "manifest.json").read_text())["steps"] == [10, 10]


def test_bad_world_model_input_exits_2(tmp_path):
    negative_seed = run_cli("train", str(CARRACING), "--debug", "--seed", "-1", cwd=tmp_path)
    assert_user_error(negative_seed, "env.seed must be >= 0")
    assert_user_error(run_cli("train", str(CARRACING), "--set", f"collect.path={tmp_path / 'none'}"), "collect.path")
    frames = tmp_path / "pendulum_frames"
    frames.mkdir()
    episode = {"frames": np.zeros((3, 3, 64, 64), np.uint8), "actions": np.zeros((2, 1), np.float32),
               "rewards": np.zeros(2, np.float32), "terminated": np.zeros(2, bool),
               "truncated": np.zeros(2, bool)}  # fmt: skip
    steps = [write_episode(frames, i, episode) for i in range(2)]
    write_manifest(frames, {"env_id": "Pendulum-v1", "frame_shape": [3, 64, 64], "crop": None}, steps)
    assert_user_error(run_cli("train", str(CARRACING), "--set", f"collect.path={frames}"), "Pendulum-v1")
    assert_user_error(run_cli("train", str(CARRACING), "--set", "controller.generatons=3"), "generations")
    assert_user_error(run_cli("train", str(DREAM), "--set", "memory.reward_head=false"), "reward_head")
    assert not (tmp_path / "runs").exists()


def test_parallel_evaluation_gives_the_sequential_returns(debug_run):
    from dataclasses import replace

    from rlgen.agents.world_model import evaluate
    from rlgen.evaluation import EvalOptions
    from rlgen.kinds import load_saved_config

    run = RunDir.open(debug_run)
    config = load_saved_config(run.config_file)
    sequential = evaluate(config, run, EvalOptions(episodes=3, seed=5))
    parallel = evaluate(replace(config, controller=replace(config.controller, workers=2)), run,
                        EvalOptions(episodes=3, seed=5))  # fmt: skip
    assert parallel.returns == sequential.returns and len(set(sequential.returns)) > 1
