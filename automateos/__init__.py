"""The `automateos` command line: `up`, one actor per process, and `run`."""
