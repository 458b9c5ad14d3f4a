"""Benchmarks for FamilyBot (run from the repository root, e.g. `python bench/reminders.py`)."""
