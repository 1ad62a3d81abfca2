"""AI daily-digest newsletter service."""
