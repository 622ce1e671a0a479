"""Config loading: round trip, overrides, debug block and every error path."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlgen.config import dump_yaml, parse_yaml, to_dict
from rlgen.errors import ConfigError
from rlgen.kinds import load_run_config, load_saved_config


def write(tmp_path: Path, text: str, name: str = "cfg.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


MINIMAL = """
kind: rl
env: {id: Pendulum-v1}
algo: {name: ppo, kwargs: {learning_rate: 3e-4, n_steps: 64}}
train: {total_timesteps: 1e4}
debug:
  train: {total_timesteps: 100}
"""


def test_round_trip_load_override_save_reload(tmp_path, pendulum):
    config = load_run_config(pendulum, overrides=["train.total_timesteps=5000", "algo.kwargs.learning_rate=1e-4"])
    assert config.train.total_timesteps == 5000
    assert config.algo.kwargs["learning_rate"] == pytest.approx(1e-4)
    saved = write(tmp_path, dump_yaml(to_dict(config)), "config.yaml")
    assert load_saved_config(saved) == config
    assert parse_yaml(saved.read_text(), "x")["kind"] == "rl"


def test_types_are_coerced(tmp_path):
    config = load_run_config(write(tmp_path, MINIMAL))
    assert config.train.total_timesteps == 10_000 and isinstance(config.train.total_timesteps, int)
    assert config.algo.kwargs["learning_rate"] == pytest.approx(3e-4)  # YAML 1.1 would read a string
    assert config.env.wrappers == () and config.run.output_dir == "runs"


def test_debug_block_and_seed(tmp_path):
    path = write(tmp_path, MINIMAL)
    assert load_run_config(path, debug=True).train.total_timesteps == 100
    assert load_run_config(path, seed=7).env.seed == 7
    config = load_run_config(path, debug=True, overrides=["train.total_timesteps=50"])
    assert config.train.total_timesteps == 50


@pytest.mark.parametrize(
    ("text", "overrides", "needles"),
    [
        (
            MINIMAL.replace("total_timesteps: 1e4", "total_timestep: 1e4"),
            [],
            ["'train.total_timestep'", "did you mean 'train.total_timesteps'"],
        ),
        (MINIMAL, ["train.evalfreq=3"], ["unknown key 'train.evalfreq'", "train.eval_freq"]),
        (MINIMAL, ["train.total_timesteps=abc"], ["'train.total_timesteps' must be an integer", "str 'abc'"]),
        (MINIMAL, ["env.n_envs=1.5"], ["'env.n_envs' must be an integer"]),
        (MINIMAL, ["train.progress_bar=3"], ["'train.progress_bar' must be true or false"]),
        (MINIMAL, ["train.total_timesteps=-5"], ["'total_timesteps' must be > 0, got -5"]),
        (MINIMAL, ["env.n_envs=0"], ["'n_envs' must be >= 1"]),
        (MINIMAL, ["algo.name=ppp"], ["'algo.name' must be one of", "did you mean 'ppo'"]),
        (MINIMAL, ["env=3"], ["'env' must be a mapping"]),
        (MINIMAL.replace("env: {id: Pendulum-v1}", "env: {n_envs: 2}"), [], ["missing required key 'env.id'"]),
        (MINIMAL.replace("kind: rl", "kind: rll"), [], ["unknown kind 'rll'", "did you mean 'rl'"]),
        (MINIMAL.replace("kind: rl", ""), [], ["missing required key 'kind'"]),
        (
            MINIMAL.replace("debug:\n  train: {total_timesteps: 100}", "debug:\n  train: {total_steps: 1}"),
            [],
            ["(debug block)", "train.total_steps"],
        ),
        ("kind: rl\nenv: [", [], ["invalid YAML", "line"]),
        ("- just\n- a list", [], ["must be a YAML mapping"]),
        (MINIMAL, ["novalue"], ["expected section.key=value"]),
    ],
)
def test_config_errors_name_the_problem(tmp_path, text, overrides, needles):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_run_config(path, overrides=overrides)
    message = str(info.value)
    assert "\n" not in message
    if not any(n.startswith("expected section") for n in needles):
        assert str(path) in message
    for needle in needles:
        assert needle in message, message


def test_missing_file_and_missing_debug_block(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_run_config(tmp_path / "nope.yaml")
    path = write(tmp_path, MINIMAL.split("debug:")[0])
    with pytest.raises(ConfigError, match="no 'debug:' block"):
        load_run_config(path, debug=True)


def test_configs_are_frozen(pendulum):
    config = load_run_config(pendulum)
    with pytest.raises(AttributeError):
        config.train.total_timesteps = 3  # type: ignore[misc]


def test_torch_threads_auto_is_one_for_mlp_policies():
    from rlgen.sb3.trainer import TORCH_DEFAULT_THREADS, torch_threads_for

    assert torch_threads_for("MlpPolicy", 0) == 1
    assert torch_threads_for("CnnPolicy", 0) == TORCH_DEFAULT_THREADS
    assert torch_threads_for("MlpPolicy", 3) == 3
