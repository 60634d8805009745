"""The web application: server-rendered pages (routes/) and the JSON API (api/) over the
same services as the CLI. `finsam serve` runs it with uvicorn (workflow/cli/web_cmd.py)."""
