"""One run of a job at a time: the lease policy (pure), the heartbeat, and who this process is."""
