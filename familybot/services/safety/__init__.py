"""Safety: the safety watch, its phrase model and the alerts it raises."""
