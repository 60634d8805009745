"""The JSON API under /api/v1: one module per domain exposing `router`, listed in
workflow/web/app.py's API_ROUTERS. OpenAPI at /api/v1/openapi.json.

    curl -H "Authorization: Bearer $TOKEN" https://host/api/v1/cases?state=inkommen
    curl -H "Authorization: Bearer $TOKEN" -H 'If-Match: "3"' -H "Idempotency-Key: $(uuidgen)" \\
         -d '{"comment": "Budget saknas"}' https://host/api/v1/cases/2026/001-01/steps/begar_komplettering

- auth.py      who calls: a personal API token (services/access/tokens.py), never a cookie;
               refusals (404/403) are access events `atkomst_nekad` through the channel api
- cases.py     /cases: list (filters, keyset paging), show (ETag = version), submit an idea,
               the caller's steps, take a step (If-Match required: 428 without, 409 stale)
- once.py      Idempotency-Key on the POSTs (services/access/idempotency.py)
- problems.py  errors as application/problem+json with the CLI's line and exit code
- schemas.py   the documents (pydantic); incoming ones forbid unknown keys
"""
