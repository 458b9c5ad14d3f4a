"""Reminders: the reminder ledger, planning and sending."""
