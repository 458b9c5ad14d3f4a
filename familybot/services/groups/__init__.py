"""Groups: joining with consent, seats and waitlists, facilitator views and stats."""
