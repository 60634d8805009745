"""Lifecycles as data (states/*.yaml) driven by one shared `transitions` machine each."""
