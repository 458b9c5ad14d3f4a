"""Resources: the library, search, file import and link checking (with its network guard)."""
