"""Kept for `bench/` (and anything else that creates jobs directly): creating and changing jobs now lives
in `sync_core.service`; these are the same functions under their old names."""

from __future__ import annotations

from .service.changes import delete_job, edit_job, find_job, set_enabled
from .service.checks import check_selectors, find_source_group, parse_targets
from .service.create import create_directory_job, create_personal_job
from .service.errors import JobInputError
from .service.specs import DirectoryJobSpec, JobEdit, PersonalJobSpec

__all__ = [
    "DirectoryJobSpec",
    "JobEdit",
    "JobInputError",
    "PersonalJobSpec",
    "check_selectors",
    "create_directory_job",
    "create_personal_job",
    "delete_job",
    "edit_job",
    "find_job",
    "find_source_group",
    "parse_targets",
    "set_enabled",
]
