"""SparseCartPoleSwingup's physics against a replica of the original's (rllab's Box2D cart-pole).

VIME's code (openai/vime) builds the task on rllab's ``cartpole.xml.mako``: a Box2D world stepped once per
0.05 s with 8 velocity and 3 position iterations, a 1 kg cart on a prismatic joint, a 1 m / 0.1 kg pole on
a revolute joint, +-10 N on the cart. This script rebuilds that world with pybox2d (a dependency of
``gymnasium[box2d]``) and compares it with ``rlgen/SparseCartPoleSwingup-v0``:

1. Free-swing decay: the swing amplitude every 2 s, released from rest at 0.6, 1, 2 and 2.6 rad from
   hanging. Box2D's joint solver loses energy at this step size; MuJoCo's RK4 does not.
2. The cubic damping coefficient c (torque -c * theta_dot^3) that best fits those curves, found by a grid
   search (the env's default ``pole_damping`` comes from this fit).
3. Random exploration: the fraction of episodes in which N(0, 1) actions reach the rewarded region
   (cos theta > 0.8, |x| <= 3), and percentiles of the best cos theta per episode, for the replica
   (with the original's reset, quirks included), the env without damping, and the env with it.

    python benchmarks/cartpole_physics.py
    python benchmarks/cartpole_physics.py --episodes 2000 --json cartpole_physics.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import Box2D
import gymnasium as gym
import numpy as np

import rlgen.envs  # noqa: F401 - registers rlgen/SparseCartPoleSwingup-v0

CART_W, CART_H = 4.0 / 12**0.5, 3.0 / 12**0.5  # rllab cartpole.xml.mako: a 1 kg cart at density 1
POLE_LEN, POLE_W = 1.0, 0.1  # a 0.1 kg pole at density 1
DT, VEL_ITERS, POS_ITERS = 0.05, 8, 3  # the mako's timestep; rllab's parser defaults for the iterations
AMPLITUDES = (0.6, 1.0, 2.0, 2.6)
DECAY_STEPS, WINDOW = 400, 40  # 20 s of free swing, amplitude per 2 s window


class RllabCartPole:
    """rllab's Box2D cart-pole world and CartpoleSwingupEnvX's reset, reward and termination."""

    def __init__(self) -> None:
        world = Box2D.b2World(allow_sleeping=False)  # pybox2d's default gravity, (0, -10), as in rllab
        self.cart = world.CreateBody(type=Box2D.b2_dynamicBody, position=(0, CART_H / 2))
        self.cart.CreatePolygonFixture(box=(CART_W / 2, CART_H / 2), density=1, friction=0.0005)
        self.pole = world.CreateBody(type=Box2D.b2_dynamicBody, position=(0, CART_H))
        half = POLE_W / 2
        corners = [(-half, 0), (half, 0), (half, POLE_LEN), (-half, POLE_LEN)]
        self.pole.CreatePolygonFixture(vertices=corners, density=1, friction=0.000002, groupIndex=-1)
        track = world.CreateBody(type=Box2D.b2_staticBody, position=(0, CART_H / 2))
        track.CreatePolygonFixture(box=(100, 0.1), friction=0.000002, groupIndex=-1)
        world.CreateJoint(type=Box2D.b2RevoluteJoint, bodyA=self.cart, bodyB=self.pole, anchor=(0, CART_H))
        world.CreateJoint(type=Box2D.b2PrismaticJoint, bodyA=track, bodyB=self.cart)
        self.world = world
        self.initial = [(body, tuple(body.position), body.angle) for body in world.bodies]

    def reset_like_rllab(self, rng: np.random.Generator) -> None:
        """The original's reset: back to the initial state, then the cart's x and x_dot and the pole's angle
        and angular velocity are set, but not the pole's position or velocity (the joint solver snaps them)."""
        self.set_consistent(0.0, 0.0, 0.0, 0.0)
        x, x_dot, theta, theta_dot = rng.uniform([-1, -2, np.pi - 1, -3], [1, 2, np.pi + 1, 3])
        self.cart.position, self.cart.linearVelocity = (x, CART_H / 2), (x_dot, 0)
        self.pole.angle, self.pole.angularVelocity = theta, theta_dot

    def set_consistent(self, x: float, x_dot: float, theta: float, theta_dot: float) -> None:
        """A state that satisfies both joints (theta in Box2D's sense: counter-clockwise, 0 = upright)."""
        for body, position, angle in self.initial:
            body.position, body.angle, body.linearVelocity, body.angularVelocity = position, angle, (0, 0), 0
        self.cart.position, self.cart.linearVelocity = (x, CART_H / 2), (x_dot, 0)
        to_centre = np.array([-np.sin(theta), np.cos(theta)]) * POLE_LEN / 2
        self.pole.position, self.pole.angle, self.pole.angularVelocity = (x, CART_H), theta, theta_dot
        self.pole.linearVelocity = (x_dot - theta_dot * to_centre[1], theta_dot * to_centre[0])

    def step(self, action: float) -> tuple[float, bool]:
        force = float(np.clip(action, -1.0, 1.0)) * 10.0  # rllab's NormalizedEnv maps [-1, 1] to +-10 N
        self.cart.ApplyForce(self.cart.GetWorldVector((force, 0)), self.cart.GetWorldPoint((0, 0)), True)
        self.world.Step(DT, VEL_ITERS, POS_ITERS)
        done = abs(self.cart.position[0]) > 3
        return float(not done and np.cos(self.pole.angle) > 0.8), done

    @property
    def cos_theta(self) -> float:
        return float(np.cos(self.pole.angle))


class MujocoCartPole:
    """rlgen/SparseCartPoleSwingup-v0 behind the same small interface."""

    def __init__(self, pole_damping: float | None = None) -> None:
        kwargs = {} if pole_damping is None else {"pole_damping": pole_damping}  # None: the env's default
        self.env = gym.make("rlgen/SparseCartPoleSwingup-v0", **kwargs).unwrapped

    def reset_like_rllab(self, rng: np.random.Generator) -> None:
        self.env.reset(seed=int(rng.integers(2**31)))

    def set_consistent(self, x: float, x_dot: float, theta: float, theta_dot: float) -> None:
        self.env.reset(seed=0)
        self.env.set_state(np.array([x, theta]), np.array([x_dot, theta_dot]))

    def step(self, action: float) -> tuple[float, bool]:
        _, reward, terminated, _, _ = self.env.step(np.array([action]))
        return float(reward), bool(terminated)

    @property
    def cos_theta(self) -> float:
        return float(np.cos(self.env.data.qpos[1]))


def decay_curve(system: RllabCartPole | MujocoCartPole, amplitude: float) -> list[float]:
    """The largest angle from hanging in each 2 s window of an unforced swing released at `amplitude`."""
    system.set_consistent(0.0, 0.0, np.pi - amplitude, 0.0)
    cosines = []
    for _ in range(DECAY_STEPS):
        system.step(0.0)
        cosines.append(system.cos_theta)
    peaks = np.asarray(cosines).reshape(-1, WINDOW).max(axis=1)
    return (np.pi - np.arccos(np.clip(peaks, -1, 1))).round(3).tolist()


def fit_damping(reference: dict[float, list[float]]) -> tuple[float, float]:
    """The cubic damping coefficient whose decay curves are closest (mean squared error) to `reference`."""
    best = (np.inf, 0.0)
    for c in np.geomspace(1e-4, 3e-3, 30):
        system = MujocoCartPole(float(c))
        error = np.mean([np.mean((np.array(decay_curve(system, a)) - curve) ** 2) for a, curve in reference.items()])
        best = min(best, (float(error), float(c)))
    return best[1], best[0]


def random_exploration(system: RllabCartPole | MujocoCartPole, episodes: int, seed: int) -> dict:
    """Episodes of N(0, 1) actions (SB3's initial Gaussian policy): how often any step pays the reward."""
    rng = np.random.default_rng(seed)
    reached, best_cos = 0, []
    for _ in range(episodes):
        system.reset_like_rllab(rng)
        total, best = 0.0, -1.0
        for _ in range(500):
            reward, done = system.step(rng.normal())
            if done:
                break
            total, best = total + reward, max(best, system.cos_theta)
        reached += total > 0
        best_cos.append(best)
    p50, p90, p99 = np.percentile(best_cos, [50, 90, 99]).round(3).tolist()
    return {"fraction_reaching_reward": reached / episodes, "best_cos_p50_p90_p99": [p50, p90, p99]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=2000, help="random-policy episodes per system")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    replica = RllabCartPole()
    reference = {a: decay_curve(replica, a) for a in AMPLITUDES}
    env_default = MujocoCartPole()
    fitted, error = fit_damping(reference)
    result = {
        "decay_box2d": reference,
        "decay_mujoco_undamped": {a: decay_curve(MujocoCartPole(0.0), a) for a in AMPLITUDES},
        "decay_mujoco_default": {a: decay_curve(env_default, a) for a in AMPLITUDES},
        "fitted_pole_damping": fitted,
        "fit_mse_rad2": error,
        "env_default_pole_damping": env_default.env.pole_damping,
        "random_policy": {
            "box2d_rllab_reset": random_exploration(replica, args.episodes, args.seed),
            "mujoco_undamped": random_exploration(MujocoCartPole(0.0), args.episodes, args.seed),
            "mujoco_default": random_exploration(env_default, args.episodes, args.seed),
        },
    }
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
