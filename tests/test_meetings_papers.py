"""The board's papers: the PDF protocol read back, escaping of user text, kallelse and utdrag."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader

from tests.meeting_support import (
    SECRETARY,
    board_meeting,
    justera,
    meet,
    paragraph_of,
    recommended,
    with_agenda_and_protocol,
)
from tests.support import World
from workflow.errors import BadInput
from workflow.services.board import decisions, papers
from workflow.services.board.decisions import DecisionInput


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"[ \t]+", " ", text)


def test_the_pdf_protocol_holds_every_paragraph_with_its_decision(world: World) -> None:
    granted = recommended(world)
    deferred = recommended(world, title="Ansökan som bordläggs")
    refused = recommended(world, "avsla", title="Ansökan som avslås")
    meeting = board_meeting(world, "2026-04-17 13:00", "Stenungsund")
    opened = with_agenda_and_protocol(world, meeting.id)
    meet(world, meeting)
    decisions.record_decision(
        world.app,
        ref=meeting.number,
        paragraph=paragraph_of(opened, deferred),
        decision=DecisionInput("bordlaggning"),
        actor_email=SECRETARY,
        forbund=world.slug,
    )
    decisions.follow_recommendations(
        world.app, ref=meeting.number, actor_email=SECRETARY, forbund=world.slug
    )
    world.clock.set(date(2026, 4, 24))
    view = justera(world, meeting.id)
    text = pdf_text(
        papers.render(world.app, ref=meeting.number, kind="protokoll", forbund=world.slug).pdf()
    )

    assert "PROTOKOLL" in text and "Stenungsund, fredag 17 april 2026 kl. 13.00" in text
    assert "Beslutande" in text and "Test styrelse_ordforande (ordförande)" in text
    assert "ANSLAG/BEVIS" in text and "Förvaringsplats för" in text
    expected = {
        granted: "Beslut: Bifall",
        deferred: "Beslut: Bordläggning",
        refused: "Beslut: Avslag",
    }
    for item in view.items:
        assert f"§ {item.paragraph} {item.title}" in text.replace("\n", " ")
        section = text.split(f"§ {item.paragraph} ", 1)[1]
        if item.dnr:
            assert section.lstrip().startswith(item.title[:20])
            assert expected[item.dnr] in section.split("§ ", 1)[0]
        else:
            assert "Beslut" in section.split("§ ", 1)[0]
    assert text.count("Beslut") >= len(view.items)


def test_user_text_is_escaped_in_every_paper(world: World) -> None:
    ref = recommended(world, title="Insats <script>alert(1)</script> & co")
    meeting = board_meeting(world, "2026-04-17 13:00")
    opened = with_agenda_and_protocol(world, meeting.id)
    meet(world, meeting)
    decisions.record_decision(
        world.app,
        ref=meeting.number,
        paragraph=paragraph_of(opened, ref),
        actor_email=SECRETARY,
        decision=DecisionInput("aterremiss", motivation="Beskriv <b>målgruppen</b>"),
        forbund=world.slug,
    )
    for kind in ("dagordning", "kallelse", "protokoll"):
        html = papers.render(world.app, ref=meeting.number, kind=kind, forbund=world.slug).html
        assert "<script>" not in html and "&lt;script&gt;" in html
    extract = papers.render(
        world.app,
        ref=meeting.number,
        kind="utdrag",
        paragraph=paragraph_of(opened, ref),
        forbund=world.slug,
    ).html
    assert "Beskriv &lt;b&gt;målgruppen&lt;/b&gt;" in extract and "PROTOKOLLSUTDRAG" in extract


def test_the_kallelse_is_due_seven_days_before_and_goes_to_the_whole_board(world: World) -> None:
    recommended(world)
    meeting = board_meeting(world, "2026-04-17 13:00", "Tjörn")
    with_agenda_and_protocol(world, meeting.id)
    notice = papers.kallelse(world.app, ref=meeting.number, forbund=world.slug)
    assert notice.due_at.isoformat() == "2026-04-10T13:00:00+02:00"
    assert notice.subject == "Kallelse till styrelsen 2026-04-17 i Tjörn"
    assert notice.recipients == sorted(
        f"{r}@test.example"
        for r in [
            "styrelse_ordforande",
            "styrelse_ledamot",
            "styrelse_ersattare",
            "sekreterare",
            "forbundschef",
        ]
    )
    text = pdf_text(notice.paper.pdf())
    assert "KALLELSE" in text and "Förslag till beslut" in text and "Dnr" in text


def test_an_extract_needs_a_paragraph_of_the_protocol(world: World) -> None:
    meeting = board_meeting(world, "2026-04-17 13:00")
    with pytest.raises(BadInput, match="inget protokoll"):
        papers.render(world.app, ref=meeting.number, kind="protokoll", forbund=world.slug)
    with_agenda_and_protocol(world, meeting.id)
    with pytest.raises(BadInput, match="--paragraph"):
        papers.render(world.app, ref=meeting.number, kind="utdrag", forbund=world.slug)
