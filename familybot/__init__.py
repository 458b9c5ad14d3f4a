"""FamilyBot: a self-hosted Discord bot for family support groups."""

__version__ = "0.1.0"
