"""When jobs run: the APScheduler wiring, the source watch and the claim of a scheduled slot."""
