"""The service layer: every business rule lives here; CLI, web and scheduler only call it."""
