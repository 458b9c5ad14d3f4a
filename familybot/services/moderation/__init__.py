"""Moderation: cases, timed bans, the rules that apply them and automod."""
