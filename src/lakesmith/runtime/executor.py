"""Running a DAG of tasks: each task starts once everything it depends on has succeeded,
independent tasks run concurrently, and a failure skips only what depends on it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


@dataclass
class Outcome(Generic[T]):
    succeeded: list[T]
    failed: dict[T, BaseException]
    skipped: dict[T, T]  # task -> the failed upstream task that caused the skip
    canceled: list[T]


def run_dag(tasks: Sequence[T], dependencies: Mapping[T, Sequence[T]], run: Callable[[T], None], *,
            max_workers: int, on_skip: Callable[[T, T], None] | None = None,
            exclusive: Callable[[T], bool] | None = None,
            stop: threading.Event | None = None) -> Outcome[T]:
    """Run `tasks` respecting `dependencies` (which must only name tasks in `tasks` and have no
    cycles). `exclusive` tasks run alone (e.g. flows that change session configuration). When
    `stop` is set, no new task starts and the ones not started are reported as canceled."""
    remaining = {t: set(dependencies.get(t, ())) for t in tasks}
    dependents: dict[T, list[T]] = {t: [] for t in tasks}
    for task, deps in remaining.items():
        for dep in deps:
            dependents[dep].append(task)
    outcome: Outcome[T] = Outcome([], {}, {}, [])
    running: dict[Future[None], T] = {}
    order = {t: i for i, t in enumerate(tasks)}
    waiting = list(tasks)

    def skip_downstream(failed: T) -> None:
        stack = list(dependents[failed])
        while stack:
            task = stack.pop()
            if task in waiting:
                waiting.remove(task)
                outcome.skipped[task] = failed
                if on_skip is not None:
                    on_skip(task, failed)
                stack.extend(dependents[task])

    pool = ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="flow")
    finished = False
    try:
        while waiting or running:
            if stop is not None and stop.is_set():
                outcome.canceled.extend(waiting)
                waiting.clear()
            ready = sorted((t for t in waiting if not remaining[t]), key=order.__getitem__)
            for task in ready:
                if len(running) >= max_workers:
                    break
                is_exclusive = exclusive is not None and exclusive(task)
                if is_exclusive and running:
                    break  # wait until it can run alone
                if running and exclusive is not None and any(exclusive(t) for t in running.values()):
                    break
                waiting.remove(task)
                running[pool.submit(run, task)] = task
                if is_exclusive:
                    break
            if not running:
                if waiting:  # nothing can start: only possible with a dependency outside `tasks`
                    raise RuntimeError(f"tasks cannot start: {waiting}")
                break
            # A timeout, so the main thread wakes to run signal handlers (Ctrl-C): the engine's
            # threads may receive the signal instead of it.
            done, _ = wait(list(running), timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                task = running.pop(future)
                error = future.exception()
                if error is None:
                    outcome.succeeded.append(task)
                    for dependent in dependents[task]:
                        remaining[dependent].discard(task)
                else:
                    outcome.failed[task] = error
                    skip_downstream(task)
        finished = True
    finally:
        # On an abort (KeyboardInterrupt) do not wait for running tasks: the caller stops the
        # engine, which ends them.
        pool.shutdown(wait=finished, cancel_futures=not finished)
    return outcome
