"""Sessions: one-off and recurring sessions, series edits, the Events mirror and calendars."""
