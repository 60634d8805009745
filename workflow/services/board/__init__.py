"""Beredning and the board: recommendations, meetings, agenda, §§, protocol, justering, papers."""
