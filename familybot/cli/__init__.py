"""The `familybot` command line, one module per command (main.py parses and dispatches)."""

EXIT_CONFIG = (
    2  # a setting is missing or wrong: systemd must not restart (RestartPreventExitStatus)
)
