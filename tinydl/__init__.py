"""tinydl: a small deep-learning framework."""
