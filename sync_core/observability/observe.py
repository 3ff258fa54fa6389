"""Around a run and each of its targets: the log context (run id, job, target) and the run and target
metrics, as decorators, so the engine's code carries one line for each.

Targets run on a thread pool, whose threads do not inherit the run's contextvars: `observed_target` captures
the run's context where the target function is defined (on the run's thread) and runs each call in a copy.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import time
from collections.abc import Callable
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


def observed_target(metrics: Metrics, *, dry_run: bool) -> Callable[[Callable[..., TargetReport]],
                                                                    Callable[..., TargetReport]]:
    """For a run's per-target function `work(user, leaving)`: each call in the run's log context plus its
    target, timed (dry runs are not)."""

    def decorate(work: Callable[..., TargetReport]) -> Callable[..., TargetReport]:
        run_context = contextvars.copy_context()  # the run's, captured on its thread

        @functools.wraps(work)
        def wrapper(user: Any, *args: Any, **kwargs: Any) -> TargetReport:
            def target() -> TargetReport:
                log_context.TARGET.set(user.email)
                started = time.monotonic()
                report = work(user, *args, **kwargs)
                seconds = time.monotonic() - started
                if not dry_run:
                    metrics.target_took(seconds)
                log.debug("target finished: %s, %d created, %d updated, %d deleted, %.2f s", report.status.value,
                          report.created, report.updated, report.deleted, seconds)
                return report

            return run_context.copy().run(target)

        return wrapper

    return decorate
