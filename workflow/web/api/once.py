"""Idempotency-Key on the API's POSTs: the edge of workflow/services/access/idempotency.py.

    return once(request, app, user, idempotency_key, body.model_dump(mode="json"), work)

Without a key, `work` simply runs. With one, the first request runs it and its (successful)
answer is kept; a repeat gets that answer again, with `Idempotent-Replayed: true`, and
nothing is done twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header, Request
from starlette.responses import JSONResponse, Response

from workflow.app import App
from workflow.services.access import idempotency
from workflow.services.access.sessions import Principal

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Valfri, unik per begäran (t.ex. ett UUID): en upprepning med samma nyckel "
        "får det första svaret och ändrar inget.",
    ),
]

REPLAYED = "Idempotent-Replayed"
# The headers of an answer a repeat carries too.
_KEPT = ("etag", "location")


def once(
    request: Request,
    app: App,
    user: Principal,
    key: str | None,
    body: Any,
    work: Callable[[], JSONResponse],
) -> Response:
    if key is None:
        return work()
    path = request.url.path
    stored = idempotency.claim(
        app, person_id=user.person_id, key=key, method=request.method, path=path, body=body
    )
    if stored is not None:
        return Response(
            stored.body,
            status_code=stored.status,
            media_type="application/json",
            headers={**stored.headers, REPLAYED: "true"},
        )
    try:
        response = work()
    except BaseException:
        idempotency.release(app, person_id=user.person_id, key=key)
        raise
    if 200 <= response.status_code < 300:
        kept = {name: value for name, value in response.headers.items() if name in _KEPT}
        idempotency.complete(
            app,
            person_id=user.person_id,
            key=key,
            answer=idempotency.Answer(response.status_code, bytes(response.body).decode(), kept),
        )
    else:
        idempotency.release(app, person_id=user.person_id, key=key)
    return response
