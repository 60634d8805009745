"""The JSON API under /api/v1: one module per domain exposing `router`, listed in
workflow/web/app.py's API_ROUTERS. Errors are application/problem+json (workflow/web/errors.py)."""
