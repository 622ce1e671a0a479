"""Executors that run many small tasks on workers which each hold some state (an env, models), built once:
``process`` (``multiprocessing`` with ``spawn``; one worker runs in this process) and ``ray`` (Ray actors on a
cluster given by ``address``, or a local Ray when none is given; the optional extra ``rlgen[ray]``).

A job is described by two module-level functions: ``setup(arg)`` builds the worker's state (called once per
worker, stored in the worker's process) and ``task(item)`` does one piece of work with it. Both executors
return results in the order of the items, so a run gives the same numbers with either, whatever the worker
that picked an item, as long as ``task`` is deterministic given its item (seeds travel in the items).
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal, Protocol

from rlgen.errors import RlgenError

ExecutorKind = Literal["process", "ray"]
Setup = Callable[[Any], None]
Task = Callable[[Any], Any]


class Executor(Protocol):
    def imap(self, items: Iterable[Any]) -> Iterator[Any]:
        """Results of ``task(item)`` in the order of ``items``."""

    def close(self) -> None: ...


class InlineExecutor:
    """One worker: this process (no start-up cost, easiest to debug)."""

    def __init__(self, setup: Setup, arg: Any, task: Task, teardown: Callable[[], None] | None = None):
        setup(arg)
        self.task, self.teardown = task, teardown

    def imap(self, items: Iterable[Any]) -> Iterator[Any]:
        return map(self.task, items)

    def close(self) -> None:
        if self.teardown is not None:
            self.teardown()


def _start_process_worker(setup: Setup, arg: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent decides
    setup(arg)


class ProcessExecutor:
    """``workers`` spawned processes, each set up once (``spawn``: safe with torch and MuJoCo's GL)."""

    def __init__(self, setup: Setup, arg: Any, task: Task, workers: int):
        self.task = task
        context = multiprocessing.get_context("spawn")
        self.pool = context.Pool(workers, initializer=_start_process_worker, initargs=(setup, arg))
        self.submitted = self.received = 0  # each counter is written by one thread only

    def imap(self, items: Iterable[Any]) -> Iterator[Any]:
        def counted(items: Iterable[Any]) -> Iterator[Any]:
            for item in items:  # runs in the pool's task-handler thread
                self.submitted += 1
                yield item

        for result in self.pool.imap(self.task, counted(items), chunksize=1):
            self.received += 1
            yield result

    def close(self) -> None:
        """Idle workers exit cleanly (close + join); only work still in flight (an error or Ctrl-C in the
        parent) is killed. Terminating idle workers can hang join() for good: the pool's maintenance thread
        may respawn a worker after terminate() has signalled the others, and that one is never stopped (a
        CI run hung so in the frame-collection tests)."""
        if self.submitted == self.received:
            self.pool.close()
        else:
            self.pool.terminate()
        self.pool.join()


class _RayWorker:
    def __init__(self, setup: Setup, arg: Any) -> None:
        setup(arg)

    def run(self, task: Task, item: Any) -> Any:
        return task(item)


_LOCAL_RAY = {"started": False}
"""Whether this process started the local Ray it is connected to (and so may restart it larger)."""


def connect_ray(workers: int, address: str | None):  # noqa: ANN201 - the ray module
    """Connect to the cluster at ``address``, or start a local Ray with a CPU for each of ``workers`` actors.
    A local Ray started earlier with fewer CPUs (a pipeline's collect stage with fewer workers than its
    controller stage) is restarted: 1-CPU actors beyond its CPUs would never be scheduled, and the ordered
    map would wait on them forever."""
    ray = import_ray()
    if ray.is_initialized():
        too_small = ray.cluster_resources().get("CPU", 0) < workers
        if not (too_small and _LOCAL_RAY["started"] and not address):
            return ray
        ray.shutdown()
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    _LOCAL_RAY["started"] = not address
    return ray


class RayExecutor:
    """``workers`` Ray actors, each set up once; ``address`` None starts (or reuses) a local Ray."""

    def __init__(self, setup: Setup, arg: Any, task: Task, workers: int, address: str | None = None):
        ray = connect_ray(workers, address)
        actor = ray.remote(num_cpus=1)(_RayWorker)
        self.task = task
        self.actors = [actor.remote(setup, arg) for _ in range(workers)]
        self.pool = ray.util.ActorPool(self.actors)

    def imap(self, items: Iterable[Any]) -> Iterator[Any]:
        task = self.task
        return self.pool.map(lambda actor, item: actor.run.remote(task, item), list(items))

    def close(self) -> None:
        ray = import_ray()
        for actor in self.actors:
            ray.kill(actor)


def import_ray():  # noqa: ANN201 - the ray module
    try:
        import ray
        import ray.util
    except ImportError:
        raise RlgenError("executor 'ray' needs Ray: pip install 'rlgen[ray]' (or pip install ray)") from None
    return ray


def make_executor(
    kind: ExecutorKind,
    workers: int,
    setup: Setup,
    arg: Any,
    task: Task,
    *,
    address: str | None = None,
    teardown: Callable[[], None] | None = None,
) -> Executor:
    """An executor of ``kind`` with ``workers`` workers (``process`` with 1 worker runs in this process)."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if kind == "ray":
        return RayExecutor(setup, arg, task, workers, address)
    if kind != "process":
        raise RlgenError(f"unknown executor {kind!r}; choose process or ray")
    if workers == 1:
        return InlineExecutor(setup, arg, task, teardown)
    return ProcessExecutor(setup, arg, task, workers)
