"""Each person's calendar feed (ICS): the secret address (access.py) and its events (feed.py)."""
