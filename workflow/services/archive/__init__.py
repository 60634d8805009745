"""Keeping the records: backup and restore, the chain-head witness, and gallring (disposal)
by the förbund's dokumenthanteringsplan."""
