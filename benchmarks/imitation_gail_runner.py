"""One GAIL run with HumanCompatibleAI ``imitation`` 1.0.1; run by ``gail_vs_imitation.py`` in its own venv.

    <imitation venv>/bin/python benchmarks/imitation_gail_runner.py spec.json

``spec.json`` (written by the benchmark) names the demos, env, PPO kwargs, discriminator settings, seed,
number of env steps and where to save the trained policy (an SB3 zip, evaluated by ``rlgen evaluate``
exactly like rlgen's own policy). Prints one JSON line: training wall time (env + GAIL set-up + training,
as on the rlgen side) and the env steps taken.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import torch
from imitation.algorithms.adversarial.gail import GAIL
from imitation.rewards.reward_nets import BasicRewardNet
from imitation.util import logger as imit_logger
from imitation.util.networks import RunningNorm
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

from rlgen.data.demonstrations import Demonstrations
from rlgen.data.imitation_compat import to_trajectories


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    torch.manual_seed(spec["seed"])
    if spec["torch_threads"]:
        torch.set_num_threads(spec["torch_threads"])
    trajectories = to_trajectories(Demonstrations.load(spec["demos"]).first_episodes(spec["episodes"]))
    with tempfile.TemporaryDirectory() as log_dir:
        start = time.perf_counter()
        venv = make_vec_env(spec["env_id"], n_envs=spec["n_envs"], seed=spec["seed"])
        gen_algo = PPO("MlpPolicy", venv, seed=spec["seed"], device="cpu", **spec["ppo_kwargs"])
        reward_net = BasicRewardNet(
            venv.observation_space,
            venv.action_space,
            normalize_input_layer=RunningNorm,
            hid_sizes=spec["hidden"],
            activation=torch.nn.Tanh,
        )
        rollout_size = spec["ppo_kwargs"]["n_steps"] * spec["n_envs"]
        trainer = GAIL(
            demonstrations=trajectories,
            demo_batch_size=spec["batch_size"],
            gen_replay_buffer_capacity=rollout_size,  # the last rollout only, like rlgen's replay_size 0
            n_disc_updates_per_round=spec["updates_per_round"],
            venv=venv,
            gen_algo=gen_algo,
            reward_net=reward_net,
            disc_opt_kwargs={"lr": spec["disc_lr"]},
            custom_logger=imit_logger.configure(log_dir, ["csv"]),
        )
        trainer.train(spec["total_timesteps"])
        seconds = time.perf_counter() - start
    gen_algo.save(spec["out"])
    print(json.dumps({"train_seconds": seconds, "env_steps": int(gen_algo.num_timesteps)}))


if __name__ == "__main__":
    main(sys.argv[1])
