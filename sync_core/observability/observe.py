"""Around a run and each of its targets: the log context (run id, job, target) and the run and target
metrics, as decorators, so the engine's code carries one line for each.

Targets run on a thread pool, whose threads do not inherit the run's contextvars: `observed_target` captures
the run's context where the target function is defined (on the run's thread) and runs each target in a copy of
it: each of its steps, on whichever worker resumes it after a park (sync_core.run.parking).
"""

from __future__ import annotations

import contextvars
import functools
import logging
import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sync_core.domain.reports import RunReport, TargetReport
from sync_core.observability import log_context
from sync_core.observability.metrics import Metrics

if TYPE_CHECKING:
    from sync_core.domain.models import RunTrigger, SyncJob

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., RunReport])


class ObservedRun(Protocol):
    """What `observed_run` reads of a run (a `JobRun` is one)."""

    job: SyncJob
    trigger: RunTrigger
    dry_run: bool
    metrics: Metrics


def observed_run(method: F) -> F:
    """For `JobRun.execute(self)`: runs it in its own log context (the job; the run sets the run id once it has
    one), counts and times it, and logs its end in one line."""

    @functools.wraps(method)
    def wrapper(run: ObservedRun, *args: Any, **kwargs: Any) -> RunReport:
        def observed() -> RunReport:
            log_context.JOB.set(run.job.name)
            started = time.monotonic()
            report = method(run, *args, **kwargs)
            seconds = time.monotonic() - started
            if not run.dry_run:
                run.metrics.run_finished(report.status.value, run.trigger.value, seconds,
                                         error=report.error_kind.value if report.error_kind else None)
            log.info("run finished: %s%s, %d targets, %d Google calls, %.1f s", report.status.value,
                     " (dry run)" if run.dry_run else "", len(report.targets), report.api_calls, seconds)
            return report

        return contextvars.copy_context().run(observed)

    return wrapper  # type: ignore[return-value]


StepsOf = Generator[Any, None, TargetReport]  # a target's steps: sync_core.run.parking.Steps[TargetReport]


def observed_target(metrics: Metrics, *, dry_run: bool) -> Callable[[Callable[..., StepsOf]],
                                                                    Callable[..., StepsOf]]:
    """For a run's per-target steps `work(user, leaving)`: each step in the run's log context plus its target;
    the target timed from its first step to its end, parks included (dry runs are not timed)."""

    def decorate(work: Callable[..., StepsOf]) -> Callable[..., StepsOf]:
        run_context = contextvars.copy_context()  # the run's, captured on its thread

        @functools.wraps(work)
        def wrapper(user: Any, *args: Any, **kwargs: Any) -> StepsOf:
            context = run_context.copy()
            context.run(log_context.TARGET.set, user.email)
            started = time.monotonic()
            report = yield from _in_context(context, context.run(work, user, *args, **kwargs))
            seconds = time.monotonic() - started
            if not dry_run:
                metrics.target_took(seconds)
            context.run(log.debug, "target finished: %s, %d created, %d updated, %d deleted, %.2f s",
                        report.status.value, report.created, report.updated, report.deleted, seconds)
            return report

        return wrapper

    return decorate


def _in_context(context: contextvars.Context, steps: StepsOf) -> StepsOf:
    """`yield from steps`, each step run in `context` (an exception thrown in at a park goes on to `steps`)."""
    try:
        park = context.run(next, steps)
        while True:
            try:
                yield park
            except BaseException as exc:  # noqa: BLE001 - thrown in at the park: the target's to handle
                park = context.run(steps.throw, exc)
            else:
                park = context.run(steps.send, None)
    except StopIteration as done:
        return done.value
