"""Bad input about a job, at the bottom of the layers so that the engine and the service raise the same types:
`JobInputError` names the field it is about, `JobNotFound` is one: no job has this name (or id)."""

from __future__ import annotations


class JobInputError(ValueError):
    """Bad input, naming the field it is about: the CLI prints one line, Slack puts it under that field."""

    def __init__(self, field: str, message: str, *, target_kind: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.target_kind = target_kind  # for a target: its kind, so a form can put the error next to its picker


class JobNotFound(JobInputError):
    """No job has this name (or id). Slack says "no sync named ..."; the engine, which the CLI and the scheduler
    run, "no sync job named ...", as the CLI words every one of them."""

    def __init__(self, job: str | int, message: str | None = None) -> None:
        super().__init__("name", message if message is not None else f"no sync named {job!r}")
        self.name = job
