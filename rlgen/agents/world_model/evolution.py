"""Stage 4, C: CMA-ES (Hansen 2016, the ``cma`` package) over the controller's flat parameters (Ha &
Schmidhuber 2018, Section 2.3 and 4.3: population 64, 16 rollouts per candidate, fitness their mean).

Every candidate of a generation is played on the same seeds (tracks), in parallel on an executor (local
processes or Ray). The fitness CMA-ES sees is the mean return minus weight_decay * mean(theta^2) (the
paper's code, ``compute_weight_decay``). Each generation appends a row to ``RUN/controller/progress.csv``
and writes a checkpoint: the best candidate so far, the CMA-ES mean, and every fitness CMA-ES was told.
Every ``eval_every`` generations the CMA-ES mean plays ``eval_episodes`` held-out tracks in the real env;
the mean that scored best there is kept as ``controller_best_eval.npy`` (what ``--checkpoint best`` plays,
as SB3's EvalCallback keeps its best model). Those tracks are seeds EVAL_SEEDS, EVAL_SEEDS + 1, ..., apart
from ``rlgen evaluate``'s 0, 1, 2, ..., so the 100-track score of the kept mean is not the one it was chosen on.
Resuming rebuilds the CMA-ES state by replaying those ``tell`` calls from the same seed (CMA-ES is
deterministic given its seed and the fitness values), so no pickled object is ever loaded.
"""

from __future__ import annotations

import json
import time

import numpy as np

from rlgen.agents.world_model.config import Config
from rlgen.agents.world_model.workers import close_worker, play_task, setup_worker
from rlgen.errors import RlgenError, TrainingInterrupted
from rlgen.parallel import make_executor
from rlgen.plots import plot_columns
from rlgen.progress import append_csv_row, progress_bar
from rlgen.runs import RunDir, atomic_save
from rlgen.stop import StopRequest

CONTROLLER_DIR = "controller"
MEAN_FILE, BEST_FILE, TOLD_FILE = "controller_mean.npy", "controller_best.npy", "fitness_told.npy"
BEST_EVAL_FILE = "controller_best_eval.npy"
COLUMNS = ("generation", "fitness_best", "fitness_mean", "fitness_worst", "best_ever", "sigma",
           "eval_return_mean", "eval_return_std", "steps", "seconds")  # fmt: skip
TRAIN_SEEDS = 1_000_000
"""Training tracks are seeds TRAIN_SEEDS + 100,000 * env.seed + ...; ``rlgen evaluate`` uses 0, 1, 2, ..."""
EVAL_SEEDS = 900_000
"""The periodic evaluations' tracks: EVAL_SEEDS + i, held out from training and from ``rlgen evaluate``."""


def make_strategy(config: Config, size: int):  # noqa: ANN201 - cma.CMAEvolutionStrategy
    import cma

    c = config.controller
    options = {"popsize": c.population, "seed": config.env.seed + 1, "verbose": -9}  # cma: seed 0 = random
    return cma.CMAEvolutionStrategy(np.zeros(size), c.sigma0, options)


class EvolutionTrainer:
    def __init__(self, config: Config, run: RunDir, size: int):
        self.config, self.cfg, self.run = config, config.controller, run
        self.folder = RunDir(run / CONTROLLER_DIR)
        self.folder.path.mkdir(exist_ok=True)
        outside = np.random.get_state()
        self.es = make_strategy(config, size)
        self.rng_state = np.random.get_state()  # cma seeded numpy's global generator: keep that stream apart
        np.random.set_state(outside)
        self.told: list[np.ndarray] = []
        self.best, self.best_fitness = np.zeros(size), -np.inf
        self.best_eval: np.ndarray | None = None
        self.best_eval_return, self.best_eval_generation = -np.inf, 0

    def seeds(self, generation: int) -> list[int]:
        base = TRAIN_SEEDS + 100_000 * self.config.env.seed + generation * self.cfg.rollouts
        return list(range(base, base + self.cfg.rollouts))

    def _cma(self, method: str, *args):  # noqa: ANN202
        """Call ``es.ask`` or ``es.tell`` on CMA-ES's own random stream (``cma`` draws from numpy's global
        generator; anything else drawing from it in between would change the candidates and break resume)."""
        outside = np.random.get_state()
        np.random.set_state(self.rng_state)
        try:
            return getattr(self.es, method)(*args)
        finally:
            self.rng_state = np.random.get_state()
            np.random.set_state(outside)

    # ------------------------------------------------------------ checkpoints

    def checkpoint(self) -> None:
        def write(directory):  # noqa: ANN001, ANN202
            np.save(directory / TOLD_FILE, np.asarray(self.told).reshape(len(self.told), self.cfg.population))
            np.save(directory / BEST_FILE, self.best)
            np.save(directory / MEAN_FILE, self.es.mean)
            if self.best_eval is not None:
                np.save(directory / BEST_EVAL_FILE, self.best_eval)
            state = {"generation": len(self.told), "best_fitness": self.best_fitness,
                     "best_eval_return": self.best_eval_return,
                     "best_eval_generation": self.best_eval_generation}  # fmt: skip
            (directory / "state.json").write_text(json.dumps(state))

        self.folder.checkpoints.save(len(self.told), write)

    def restore(self) -> None:
        found = self.folder.checkpoints.get("latest")
        if found is None:
            return
        try:
            told = np.load(found.path / TOLD_FILE, allow_pickle=False)
            self.best = np.load(found.path / BEST_FILE, allow_pickle=False)
            mean = np.load(found.path / MEAN_FILE, allow_pickle=False)
            state = json.loads((found.path / "state.json").read_text())
            self.best_fitness = float(state["best_fitness"])
            if (found.path / BEST_EVAL_FILE).is_file():
                self.best_eval = np.load(found.path / BEST_EVAL_FILE, allow_pickle=False)
                self.best_eval_return = float(state["best_eval_return"])
                self.best_eval_generation = int(state["best_eval_generation"])
        except (OSError, ValueError, KeyError) as err:
            raise RlgenError(f"cannot resume C from {found.path}: {str(err).splitlines()[0]}") from None
        for fitness in told:  # replay: ask gives the same candidates again, tell moves the state on
            self._cma("tell", self._cma("ask"), list(fitness))
        self.told = list(told)
        if not np.allclose(self.es.mean, mean):
            raise RlgenError(f"replaying {found.path} did not rebuild the CMA-ES state (another cma version?)")
        print(f"C: resuming at generation {len(self.told)}")

    # ------------------------------------------------------------ loop

    def _generation(self, executor, generation: int) -> dict[str, float]:  # noqa: ANN001
        candidates = self._cma("ask")
        mode = "dream" if self.cfg.train_in == "dream" else "train"
        seeds = self.seeds(generation)
        items = [(mode, np.asarray(x), seed) for x in candidates for seed in seeds]
        results = np.asarray(list(executor.imap(items)), dtype=np.float64).reshape(len(candidates), len(seeds), 2)
        fitness = results[:, :, 0].mean(axis=1)
        penalty = self.cfg.weight_decay * np.mean(np.square(candidates), axis=1)
        told = -(fitness - penalty)  # cma minimises
        self._cma("tell", candidates, list(told))
        self.told.append(told)
        top = int(np.argmax(fitness))
        if fitness[top] > self.best_fitness:
            self.best, self.best_fitness = np.asarray(candidates[top]), float(fitness[top])
        return {"fitness_best": float(fitness.max()), "fitness_mean": float(fitness.mean()),
                "fitness_worst": float(fitness.min()), "best_ever": self.best_fitness, "sigma": float(self.es.sigma),
                "steps": int(results[:, :, 1].sum())}  # fmt: skip

    def _evaluate_mean(self, executor, generation: int) -> dict[str, float]:  # noqa: ANN001
        """The CMA-ES mean in the real env on the held-out tracks EVAL_SEEDS ...; kept if it is the best yet."""
        mean = np.array(self.es.mean)
        items = [("eval", mean, EVAL_SEEDS + i) for i in range(self.cfg.eval_episodes)]
        returns = [ret for ret, _ in executor.imap(items)]
        if np.mean(returns) > self.best_eval_return:
            self.best_eval, self.best_eval_return, self.best_eval_generation = mean, float(np.mean(returns)), generation
        return {"eval_return_mean": float(np.mean(returns)), "eval_return_std": float(np.std(returns))}

    def train(self) -> None:
        self.restore()
        c = self.cfg
        bar = progress_bar(c.generations, f"C (CMA-ES, {c.train_in})", "gen", initial=len(self.told))
        executor = make_executor(c.executor, c.workers, setup_worker, str(self.run.path), play_task,
                                 address=c.address or None, teardown=close_worker)  # fmt: skip
        try:
            with StopRequest() as stop:
                while len(self.told) < c.generations:
                    started = time.perf_counter()
                    row = self._generation(executor, len(self.told))
                    generation = len(self.told)
                    if generation % c.eval_every == 0 or generation == c.generations:
                        row.update(self._evaluate_mean(executor, generation))
                    row.update(generation=generation, seconds=round(time.perf_counter() - started, 2))
                    append_csv_row(self.folder / "progress.csv", row, COLUMNS)
                    self.checkpoint()
                    self._report(bar, row)
                    if stop.signum is not None:
                        raise TrainingInterrupted(
                            f"interrupted after C's generation {generation} (checkpoint saved); "
                            f"continue with: rlgen train --resume {self.run.path}"
                        )
        finally:
            executor.close()
            if bar is not None:
                bar.close()
        self.finish()

    def _report(self, bar, row: dict[str, float]) -> None:  # noqa: ANN001
        text = f"fitness mean {row['fitness_mean']:.1f}, best {row['fitness_best']:.1f}"
        if "eval_return_mean" in row:
            text += f", eval {row['eval_return_mean']:.1f} ± {row['eval_return_std']:.1f}"
        if bar is not None:
            bar.set_postfix_str(text)
            bar.update(1)
        else:
            print(f"C generation {row['generation']}: {text}", flush=True)

    def finish(self) -> None:
        atomic_save(self.folder / MEAN_FILE, lambda p: np.save(p, self.es.mean))
        atomic_save(self.folder / BEST_FILE, lambda p: np.save(p, self.best))
        if self.best_eval is not None:
            atomic_save(self.folder / BEST_EVAL_FILE, lambda p: np.save(p, self.best_eval))
            print(
                f"C: the best evaluation was generation {self.best_eval_generation}'s mean "
                f"({self.best_eval_return:.1f} on {self.cfg.eval_episodes} held-out tracks): --checkpoint best"
            )
        plot_columns(self.folder / "progress.csv", "generation",
                     ["fitness_best", "fitness_mean", "fitness_worst", "eval_return_mean"],
                     self.folder.plots / "fitness.png", ylabel="return", title="C: CMA-ES fitness")  # fmt: skip


def load_controller_params(run: RunDir, checkpoint: str) -> np.ndarray:
    """final: the CMA-ES mean at the end; best: the CMA-ES mean with the best periodic evaluation (runs
    without one: the best candidate seen in training); last: the latest checkpoint's mean (an unfinished
    run)."""
    folder = run / CONTROLLER_DIR
    if checkpoint == "last" or not (folder / MEAN_FILE).is_file():
        found = RunDir(folder).checkpoints.get("latest")
        if found is None:
            raise RlgenError(f"{run.path} has no trained controller yet (finish or resume the run)")
        folder = found.path
    path = folder / MEAN_FILE
    if checkpoint == "best":
        path = folder / (BEST_EVAL_FILE if (folder / BEST_EVAL_FILE).is_file() else BEST_FILE)
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise RlgenError(f"cannot read the controller {path}: {str(err).splitlines()[0]}") from None
