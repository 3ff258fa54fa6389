"""What a sync is: jobs and their tables, the result vocabulary, reports, the one table of People fields, ownership
tags, the errors about a job's input, schedules, the words an admin may type."""
