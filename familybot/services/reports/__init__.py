"""Reports: members reporting a message or person to facilitators."""
