"""Privacy: export and forget a member, and data retention."""
