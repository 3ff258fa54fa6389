"""Running one job: the engine facade, the source readers, target resolution, one target's sync and what a run
records."""
