"""Governing documents (styrdokument) and their renewal."""
