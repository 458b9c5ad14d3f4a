"""Setup: server settings, the welcome panel, diagnostics, languages and time zones."""
