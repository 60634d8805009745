"""The witness: each förbund's audit chain head, written beside every backup.

A person who can write to the database can rewrite the audit chain and recompute every hash,
and `audit verify` alone would then find nothing wrong. The witness is kept outside the
database (beside the backup, and wherever else the förbund keeps copies); comparing finds
the rewrite: the event the witness names must still be in the chain with the same hash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from workflow.errors import BadInput
from workflow.models import AuditChain, AuditEvent, Forbund

FORMAT = "finsam-witness/1"


def witness_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".witness.json")


def chain_heads(session: Session) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Forbund.slug, AuditChain.seq, AuditChain.head_hash)
        .join(AuditChain, col(AuditChain.forbund_id) == col(Forbund.id))
        .order_by(col(Forbund.slug))
    ).all()
    return [{"forbund": slug, "seq": seq, "head_hash": head} for slug, seq, head in rows]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write(path: Path, *, backup: Path, heads: list[dict[str, Any]], taken_at: datetime) -> None:
    """Write the witness atomically (a half-written witness would prove nothing)."""
    document = {
        "format": FORMAT,
        "taken_at": taken_at.isoformat(),
        "backup": backup.name,
        "sha256": sha256(backup),
        "chains": heads,
    }
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    temporary.replace(path)


def read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"vittnesfilen {path} finns inte") from None
    except (ValueError, UnicodeDecodeError):
        raise BadInput(f"{path} är ingen vittnesfil (inte JSON)") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BadInput(f"{path} är ingen vittnesfil från finsam backup ({FORMAT})")
    return document


@dataclass(frozen=True)
class WitnessCheck:
    forbund: str
    seq: int
    ok: bool
    problem: str | None = None


def compare(session: Session, document: dict[str, Any]) -> list[WitnessCheck]:
    """Does every chain still hold the event the witness names, with the same hash?"""
    checks = []
    for chain in document.get("chains", []):
        slug, seq, head = chain["forbund"], int(chain["seq"]), chain["head_hash"]
        forbund_id = session.exec(select(Forbund.id).where(Forbund.slug == slug)).first()
        if forbund_id is None:
            checks.append(WitnessCheck(slug, seq, False, "förbundet finns inte i databasen"))
            continue
        if seq == 0:
            checks.append(WitnessCheck(slug, seq, True))
            continue
        event_hash = session.exec(
            select(AuditEvent.hash).where(
                AuditEvent.forbund_id == forbund_id, AuditEvent.seq == seq
            )
        ).first()
        if event_hash is None:
            checks.append(
                WitnessCheck(
                    slug, seq, False, f"händelse {seq} saknas: kedjan är kortare än vittnet"
                )
            )
        elif event_hash != head:
            checks.append(
                WitnessCheck(
                    slug, seq, False, f"händelse {seq} har skrivits om sedan säkerhetskopian"
                )
            )
        else:
            checks.append(WitnessCheck(slug, seq, True))
    return checks
