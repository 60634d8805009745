"""`python -m workflow` is the same as `finsam`."""

from workflow.cli.main import entry

entry()
