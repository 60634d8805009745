"""The förbund itself: its parties, its people and their roles, its organs and members."""
