"""/healthz: the process answers. /readyz: the database answers and its schema is current."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from workflow.web.deps import AppDep

router = APIRouter(tags=["drift"])


@router.get("/healthz", include_in_schema=False)
def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz", include_in_schema=False)
def readyz(app: AppDep) -> JSONResponse:
    try:
        current, expected = app.db.schema_status()
    except SQLAlchemyError:
        return JSONResponse({"status": "fel", "detail": "databasen svarar inte"}, status_code=503)
    if not current:
        return JSONResponse(
            {"status": "fel", "detail": "databasen är inte initierad; kör 'finsam init'"},
            status_code=503,
        )
    if current != expected:
        return JSONResponse(
            {"status": "fel", "detail": "databasen har ett äldre schema; kör 'finsam init'"},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "schema": sorted(current)})
