"""What a sync is: jobs and their tables, the result vocabulary, reports, the synced contact fields and ownership
tags, schedules, the words an admin may type."""
