"""Audit: the audit log of facilitator and admin actions."""
