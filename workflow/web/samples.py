"""Sample values of path parameters, per förbund, for the generated security tests.

The cross-förbund matrix (tests/test_web_security.py) walks the routing table: every route
with path parameters, every role, both demo förbund. To call a route of förbund B as a person
of förbund A it needs, for each path parameter, a value that exists in B. A route gets it
in one of two ways:

  - by the parameter's name: a finder registered here with `@sample("ref")` serves every
    route with a `{ref}` (a case's dnr or idea number);
  - by the route: `openapi_extra={"x-finsam-samples": {"ref": "case_ref"}}` names the finder
    to use for that route's parameter when the name alone is ambiguous.

A route with a parameter no finder serves fails the matrix test, naming the route: so a
route added later is covered, or its author is told what to add.

A route that is public by design for every förbund (an OIDC login of förbund B, before anyone
is known) says so with `openapi_extra={"x-finsam-public": "why"}`: the cross-förbund matrix
skips it, the other security tests still call it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from workflow.app import App
from workflow.models import Attachment, Forbund, Insats, Person, Report

# (app, förbund slug) -> a value of that förbund for the parameter.
Finder = Callable[[App, str], str]

FINDERS: dict[str, Finder] = {}


def sample(name: str) -> Callable[[Finder], Finder]:
    """Register the finder of a path parameter (or of a named sample, see the docstring)."""

    def register(finder: Finder) -> Finder:
        if name in FINDERS:
            raise ValueError(f"sample {name!r} registered twice")
        FINDERS[name] = finder
        return finder

    return register


_F = Forbund.__table__  # type: ignore[attr-defined]
_I = Insats.__table__  # type: ignore[attr-defined]
_P = Person.__table__  # type: ignore[attr-defined]


def _forbund_id(app: App, slug: str) -> int:
    with app.db.reading() as session:
        return int(session.execute(select(_F.c.id).where(_F.c.slug == slug)).scalar_one())


@sample("ref")
def case_ref(app: App, slug: str) -> str:
    """A registered case of the förbund (its dnr), else an idea (its number).

    A dnr holds a slash (2012/011-01): routes take it as `{ref:path}`.
    """
    forbund_id = _forbund_id(app, slug)
    with app.db.reading() as session:
        insats_id = session.execute(
            select(_I.c.id)
            .where(_I.c.forbund_id == forbund_id)
            .order_by(_I.c.dnr.is_(None), _I.c.id)
            .limit(1)
        ).scalar_one()
        insats = session.get(Insats, insats_id)
        assert insats is not None
    from workflow.services.cases.records import case_ref as ref_of

    return ref_of(insats)


@sample("person_id")
def person_id(app: App, slug: str) -> str:
    forbund_id = _forbund_id(app, slug)
    with app.db.reading() as session:
        return str(
            session.execute(select(_P.c.id).where(_P.c.forbund_id == forbund_id).order_by(_P.c.id))
            .scalars()
            .first()
        )


@sample("forbund")
def forbund_slug(app: App, slug: str) -> str:
    return slug


@sample("trigger")
def trigger(app: App, slug: str) -> str:
    """A step of the case lifecycle (the same names in every förbund): the case it is taken on
    is what belongs to a förbund."""
    return "avsluta"


@sample("token_id")
def token_id(app: App, slug: str) -> str:
    """A personal API token of the förbund's first person (made once, named "prov")."""
    from workflow.services.access import tokens

    email = person_email(app, slug)
    for view in tokens.list_tokens(app, email=email, forbund=slug):
        if view.name == "prov" and view.active:
            return str(view.id)
    return str(tokens.create_token(app, email=email, name="prov", forbund=slug).token.id)


@sample("party_id")
def party_id(app: App, slug: str) -> str:
    from workflow.models import Party

    forbund_id = _forbund_id(app, slug)
    with app.db.reading() as session:
        return str(
            session.execute(
                select(Party.id).where(Party.forbund_id == forbund_id).order_by(Party.id)
            )
            .scalars()
            .first()
        )


@sample("organ_id")
def organ_id(app: App, slug: str) -> str:
    """An organ of the förbund (its board, made from people's roles if none is set up)."""
    from workflow.models import Organ
    from workflow.services.organisation.forbund import resolve_forbund
    from workflow.services.organisation.organs import ensure_organ

    forbund_id = _forbund_id(app, slug)
    with app.db.reading() as session:
        found = session.execute(
            select(Organ.id).where(Organ.forbund_id == forbund_id).order_by(Organ.id)
        ).scalar()
    if found is not None:
        return str(found)
    with app.db.transaction() as session:
        return str(ensure_organ(session, resolve_forbund(session, slug), "styrelse").id)


@sample("policy_id")
def policy_id(app: App, slug: str) -> str:
    """A styrdokument of the förbund (one registered by its förbundschef if it has none)."""
    from workflow.models import PolicyDocument
    from workflow.services.demo.logins import demo_login
    from workflow.services.policies import documents
    from workflow.vocabulary import Role

    forbund_id = _forbund_id(app, slug)
    with app.db.reading() as session:
        found = session.execute(
            select(PolicyDocument.id)
            .where(PolicyDocument.forbund_id == forbund_id)
            .order_by(PolicyDocument.id)
        ).scalar()
    if found is not None:
        return str(found)
    chef = demo_login(Role.FORBUNDSCHEF, slug).email
    view = documents.register(
        app, actor_email=chef, kind="policy", title="Provpolicy", forbund=slug
    )
    return str(view.id)


@sample("calendar_token")
def calendar_token(app: App, slug: str) -> str:
    """The secret of a live calendar address of the förbund's first person (a new one each
    time: only its hash is stored, so an earlier one cannot be read back)."""
    from workflow.services.calendar import access

    return access.renew_feed(app, email=person_email(app, slug), forbund=slug).secret


def _latest_item(app: App, slug: str) -> tuple[int, int]:
    """(meeting id, item id): the first agenda item of the förbund's latest meeting that has
    an agenda."""
    from workflow.models import AgendaItem, Meeting

    meeting = Meeting.__table__  # type: ignore[attr-defined]
    item = AgendaItem.__table__  # type: ignore[attr-defined]
    forbund_id = _forbund_id(app, slug)
    with app.db.reading() as session:
        row = session.execute(
            select(meeting.c.id, item.c.id)
            .join(item, item.c.meeting_id == meeting.c.id)
            .where(meeting.c.forbund_id == forbund_id)
            .order_by(meeting.c.starts_at.desc(), item.c.section, item.c.position)
            .limit(1)
        ).one()
        return int(row[0]), int(row[1])


@sample("meeting_id")
def meeting_id(app: App, slug: str) -> str:
    """A meeting of the förbund (its row id, as /moten/{meeting_id} takes it)."""
    return str(_latest_item(app, slug)[0])


@sample("agenda_item_id")
def agenda_item_id(app: App, slug: str) -> str:
    """An agenda item of that meeting."""
    return str(_latest_item(app, slug)[1])


@sample("message_id")
def message_id(app: App, slug: str) -> str:
    """A message of the förbund's outbox (a failed one is written once, named "prov")."""
    from workflow.models import OutboxMessage
    from workflow.reminder_rules import Rendered
    from workflow.services.reminders import outbox

    forbund_id = _forbund_id(app, slug)
    with app.db.transaction() as session:
        found = session.execute(
            select(OutboxMessage.id)
            .where(OutboxMessage.forbund_id == forbund_id)
            .order_by(OutboxMessage.id)  # type: ignore[arg-type]
            .limit(1)
        ).scalar_one_or_none()
        if found is not None:
            return str(found)
        message = outbox.queue(
            session,
            app,
            forbund_id=forbund_id,
            kind="notice",
            to_address=person_email(app, slug),
            to_name=None,
            rendered=Rendered("prov", "prov", "<p>prov</p>"),
            now=app.clock(),
        )
        message.status = "failed"
        message.failure_cause = "recipient"
        message.last_error = "550 prov"
        session.add(message)
        session.flush()
        return str(message.id)


@sample("check_id")
def check_id(app: App, slug: str) -> str:
    """A check of the förbund's audit chain (made once, by its förbundschef)."""
    from workflow.models import AuditVerification
    from workflow.services.cases import audit_trail
    from workflow.services.demo.logins import demo_login
    from workflow.vocabulary import Role

    forbund_id = _forbund_id(app, slug)
    with app.db.reading() as session:
        found = session.execute(
            select(AuditVerification.id)
            .where(AuditVerification.forbund_id == forbund_id)
            .order_by(AuditVerification.id)  # type: ignore[arg-type]
            .limit(1)
        ).scalar_one_or_none()
    if found is not None:
        return str(found)
    chef = demo_login(Role.FORBUNDSCHEF, slug)
    with app.db.reading() as session:
        from workflow.services.organisation.forbund import resolve_forbund
        from workflow.services.organisation.people import find_actor

        actor = find_actor(session, resolve_forbund(session, slug), chef.email)
    return str(audit_trail.start_check(app, actor, forbund=slug, background=False))


def person_email(app: App, slug: str) -> str:
    forbund_id = _forbund_id(app, slug)
    with app.db.reading() as session:
        return str(
            session.execute(
                select(_P.c.email).where(_P.c.forbund_id == forbund_id).order_by(_P.c.id)
            )
            .scalars()
            .first()
        )


def is_own_forbund_only(route_extra: dict[str, object] | None) -> bool:
    """A route whose parameters are counted per förbund and read in the caller's own (a
    meeting's number on the API): nothing of another förbund can be named on it."""
    return bool((route_extra or {}).get("x-finsam-own-forbund"))


def is_public(route_extra: dict[str, object] | None) -> bool:
    return bool((route_extra or {}).get("x-finsam-public"))


def finder_for(route_extra: dict[str, object] | None, param: str) -> Finder | None:
    named = (route_extra or {}).get("x-finsam-samples")
    if isinstance(named, dict) and param in named:
        return FINDERS.get(str(named[param]))
    return FINDERS.get(param)


_R = Report.__table__  # type: ignore[attr-defined]
_A = Attachment.__table__  # type: ignore[attr-defined]


@sample("report_id")
def report_id(app: App, slug: str) -> str:
    """The förbund's first report (of its first insats with a report plan)."""
    forbund_id = _forbund_id(app, slug)
    with app.db.reading() as session:
        return str(
            session.execute(
                select(_R.c.id).where(_R.c.forbund_id == forbund_id).order_by(_R.c.id).limit(1)
            ).scalar_one()
        )


@sample("attachment_id")
def attachment_id(app: App, slug: str) -> str:
    """An attachment of the förbund's first case (one PDF, attached once by the
    förbundschef)."""
    from workflow.services import attachments
    from workflow.services.demo.logins import demo_login
    from workflow.vocabulary import Role

    forbund_id = _forbund_id(app, slug)
    with app.db.reading() as session:
        found = session.execute(
            select(_A.c.id)
            .where(_A.c.forbund_id == forbund_id, _A.c.insats_id.is_not(None))
            .order_by(_A.c.id)
            .limit(1)
        ).scalar()
    if found is not None:
        return str(found)
    upload = attachments.check_upload(app, "prov.pdf", b"%PDF-1.4\n% prov\n")
    view = attachments.add_attachment(
        app,
        ref=case_ref(app, slug),
        actor_email=demo_login(Role.FORBUNDSCHEF, slug).email,
        subject_kind="ansokan",
        upload=upload,
        forbund=slug,
    )
    return str(view.id)


@sample("policy_attachment_id")
def policy_attachment_id(app: App, slug: str) -> str:
    """A document version of the förbund's first styrdokument (the `policy_id` sample), one
    PDF attached by the förbundschef if it has none."""
    from workflow.services import attachments
    from workflow.services.demo.logins import demo_login
    from workflow.services.policies import documents
    from workflow.vocabulary import Role

    policy = int(policy_id(app, slug))
    with app.db.reading() as session:
        found = session.execute(
            select(_A.c.id).where(_A.c.policy_id == policy).order_by(_A.c.id).limit(1)
        ).scalar()
    if found is not None:
        return str(found)
    upload = attachments.check_upload(app, "policy.pdf", b"%PDF-1.4\n% policy\n")
    view = documents.attach(
        app,
        ref=f"sd-{policy}",
        actor_email=demo_login(Role.FORBUNDSCHEF, slug).email,
        upload=upload,
        forbund=slug,
    )
    return str(view.id)


# -- the board's protocol pages (routes/protocol.py, routes/anslagstavla.py) ------------------


def _meeting_numbers(app: App, slug: str, *, posted: bool) -> list[int]:
    from workflow.models import Meeting, Protocol

    _M = Meeting.__table__  # type: ignore[attr-defined]
    _R = Protocol.__table__  # type: ignore[attr-defined]
    forbund_id = _forbund_id(app, slug)
    query = select(_M.c.number).join(_R, _R.c.meeting_id == _M.c.id)
    query = query.where(_M.c.forbund_id == forbund_id)
    if posted:
        query = query.where(_R.c.status == "anslaget")
    with app.db.reading() as session:
        return [int(n) for n in session.execute(query.order_by(_M.c.starts_at)).scalars()]


@sample("protocol_meeting")
def protocol_meeting(app: App, slug: str) -> str:
    """A meeting of the förbund with a protocol (its number; the path names the förbund too,
    since numbers are each förbund's own)."""
    return str(_meeting_numbers(app, slug, posted=False)[-1])


@sample("posted_protocol")
def posted_protocol(app: App, slug: str) -> str:
    """A meeting whose protocol is on the förbund's anslagstavla."""
    return str(_meeting_numbers(app, slug, posted=True)[-1])


@sample("protocol_paper")
def protocol_paper(app: App, slug: str) -> str:
    return "protokoll"


# -- funding (routes/review.py, routes/funding.py) ------------------------------------------


@sample("agreement_ref")
def agreement_ref(app: App, slug: str) -> str:
    """The dnr of an insats of the förbund that has an avtal."""
    from workflow.models import Agreement
    from workflow.services.cases.records import case_ref as ref_of

    forbund_id = _forbund_id(app, slug)
    with app.db.reading() as session:
        insats_id = (
            session.execute(
                select(Agreement.insats_id)
                .where(Agreement.forbund_id == forbund_id)
                .order_by(Agreement.id)
            )
            .scalars()
            .first()
        )
        insats = session.get(Insats, insats_id)
        assert insats is not None
        return ref_of(insats)


@sample("payment_id")
def payment_id(app: App, slug: str) -> str:
    """A payment of the förbund; one held payment is made under its first avtal if it has
    none (the second demo förbund pays nothing)."""
    from datetime import date

    from workflow.models import Agreement, Payment

    forbund_id = _forbund_id(app, slug)
    with app.db.transaction() as session:
        found = (
            session.execute(
                select(Payment.id).where(Payment.forbund_id == forbund_id).order_by(Payment.id)
            )
            .scalars()
            .first()
        )
        if found is not None:
            return str(found)
        agreement = (
            session.execute(
                select(Agreement).where(Agreement.forbund_id == forbund_id).order_by(Agreement.id)
            )
            .scalars()
            .first()
        )
        assert agreement is not None
        payment = Payment(
            forbund_id=forbund_id,
            insats_id=agreement.insats_id,
            agreement_id=agreement.id,  # type: ignore[arg-type]
            year=agreement.start_date.year,
            amount_tkr=1,
            requested_on=date(agreement.start_date.year, 1, 1),
            status="vilande",
        )
        session.add(payment)
        session.flush()
        return str(payment.id)


@sample("question_id")
def question_id(app: App, slug: str) -> str:
    """A follow-up question of the förbund; one is made for its first insats if it has none."""
    from datetime import date

    from workflow.models import FollowUpQuestion

    forbund_id = _forbund_id(app, slug)
    with app.db.transaction() as session:
        found = (
            session.execute(
                select(FollowUpQuestion.id)
                .where(FollowUpQuestion.forbund_id == forbund_id)
                .order_by(FollowUpQuestion.id)
            )
            .scalars()
            .first()
        )
        if found is not None:
            return str(found)
        insats_id = session.execute(
            select(_I.c.id).where(_I.c.forbund_id == forbund_id).order_by(_I.c.id).limit(1)
        ).scalar_one()
        question = FollowUpQuestion(
            forbund_id=forbund_id,
            insats_id=insats_id,
            months_after=6,
            due_on=date(2000, 1, 1),
            question="Finns arbetssättet kvar?",
        )
        session.add(question)
        session.flush()
        return str(question.id)
