"""The förbund's set-up pages (/installningar) and the styrdokument register (/styrdokument),
through a client without JavaScript: who may reach them, that every change is one audit event
by the person who made it (channel web), the board's warnings, the YAML file both ways, and a
policy's lifecycle from the page. The journeys in a real browser are in
tests/test_web_setup_browser.py; these run on SQLite only (nothing here is database-specific).
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.web_support import ClientFactory, WebClient
from workflow.app import App
from workflow.errors import BadInput, NotPermitted
from workflow.models import AuditEvent, Forbund, Organ, Party, Person
from workflow.services.demo.logins import demo_login
from workflow.services.organisation import admin, forbund_file, forbund_import, people
from workflow.services.policies import documents
from workflow.vocabulary import Role

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

ADMIN = demo_login(Role.ADMIN, "akst").email
CHEF = demo_login(Role.FORBUNDSCHEF, "akst").email


def _events(app: App, slug: str, since: int = 0) -> list[AuditEvent]:
    with app.db.reading() as session:
        forbund_id = session.execute(select(Forbund.id).where(Forbund.slug == slug)).scalar_one()
        return list(
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.forbund_id == forbund_id, AuditEvent.seq > since)
                .order_by(AuditEvent.seq)
            ).scalars()
        )


def _head(app: App, slug: str) -> int:
    events = _events(app, slug)
    return events[-1].seq if events else 0


def _id_of(app: App, model: type, **where: object) -> int:
    with app.db.reading() as session:
        query = select(model.id)  # type: ignore[attr-defined]
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.execute(query).scalar_one())


def _post(client: WebClient, path: str, data: dict[str, object], page: str) -> object:
    return client.post_form(path, data, token_from=page, follow_redirects=False)


def test_an_admin_sets_up_the_forbund_and_every_change_is_theirs_on_the_web(
    client_as: ClientFactory, demo_app: App
) -> None:
    client = client_as(Role.ADMIN)
    start = client.get("/installningar", follow_redirects=False)
    assert start.status_code == 303 and start.headers["location"] == "/installningar/akst"
    page = client.get("/installningar/akst")
    assert page.status_code == 200 and "Lägg till en part" in page.text
    before = _head(demo_app, "akst")
    base = "/installningar/akst"

    answer = _post(client, f"{base}/parter", {"kind": "kommun", "name": "Tjörns kommun 2"}, base)
    assert answer.status_code == 303  # type: ignore[attr-defined]
    party_id = _id_of(demo_app, Party, name="Tjörns kommun 2")
    answer = _post(
        client,
        f"{base}/parter/{party_id}",
        {"kind": "kommun", "name": "Orusts kommun"},
        f"{base}/parter/{party_id}",
    )
    assert answer.status_code == 303  # type: ignore[attr-defined]

    answer = client.post_form(
        f"{base}/personer",
        {
            "name": "Nora Ny",
            "email": "nora.ny@akst.example",
            "party": "Orusts kommun",
            "roles": ["styrelse_ledamot"],
        },
        token_from=base,
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    nora = _id_of(demo_app, Person, email="nora.ny@akst.example")
    assert answer.headers["location"] == f"{base}/personer/{nora}?klart=person"
    answer = client.post_form(
        f"{base}/personer/{nora}",
        {
            "name": "Nora Nyberg",
            "email": "nora.ny@akst.example",
            "party": "Orusts kommun",
            "roles": ["styrelse_ledamot", "beredningsgrupp"],
        },
        token_from=f"{base}/personer/{nora}",
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text

    answer = _post(client, f"{base}/organ", {"kind": "lsg", "name": "LSG Orust"}, base)
    assert answer.status_code == 303  # type: ignore[attr-defined]
    organ = _id_of(demo_app, Organ, name="LSG Orust")
    answer = _post(
        client,
        f"{base}/organ/{organ}/uppdrag",
        {"person": str(nora), "role": "ledamot", "elected": "2022"},
        f"{base}/organ/{organ}",
    )
    assert answer.status_code == 303, answer.text  # type: ignore[attr-defined]
    roster = client.get(f"{base}/organ/{organ}")
    assert "Nora Nyberg" in roster.text and "2023-04-01 – 2027-03-31 (vald 2022)" in roster.text
    answer = _post(
        client, f"{base}/organ/{organ}/uppdrag/{nora}/ta-bort", {}, f"{base}/organ/{organ}"
    )
    assert answer.status_code == 303  # type: ignore[attr-defined]
    answer = _post(client, f"{base}/personer/{nora}/aktiv", {"active": "0"}, base)
    assert answer.status_code == 303  # type: ignore[attr-defined]

    events = _events(demo_app, "akst", before)
    assert [e.trigger for e in events] == [
        "lagg_till_part",
        "andra_part",
        "lagg_till_person",
        "andra_person",
        "andra_roller",
        "skapa_organ",
        "lagg_till_ledamot",
        "ta_bort_ledamot",
        "avaktivera",
    ]
    assert {(e.actor_email, e.channel) for e in events} == {(ADMIN, "web")}
    history = client.get(f"{base}/historik")
    assert history.status_code == 200
    for event in events:
        assert (
            event.comment is not None
            and event.comment.replace("<", "&lt;").replace(">", "&gt;") in history.text
        )
    assert history.text.count(f"<td>{ADMIN}</td>") >= len(events)
    assert "webben" in history.text


def test_a_refused_change_keeps_the_page_and_says_why(client_as: ClientFactory) -> None:
    client = client_as(Role.ADMIN)
    base = "/installningar/akst"
    answer = _post(client, f"{base}/parter", {"kind": "kommun", "name": "Ale kommun"}, base)
    assert answer.status_code == 400  # type: ignore[attr-defined]
    assert "har redan en part" in answer.text  # type: ignore[attr-defined]
    answer = client.post_form(
        f"{base}/personer", {"name": "X", "email": "inte-en-adress"}, token_from=base
    )
    assert answer.status_code == 400 and "ingen e-postadress" in answer.text
    assert 'value="inte-en-adress"' in answer.text


def test_the_forbundschef_runs_the_set_up_and_the_change_is_theirs(
    client_as: ClientFactory, demo_app: App
) -> None:
    chef = client_as(Role.FORBUNDSCHEF)
    base = "/installningar/akst"
    assert "Inställningar" in chef.get("/").text.split("<main")[0]
    assert chef.get(base).status_code == 200
    answer = _post(chef, f"{base}/parter", {"kind": "kommun", "name": "Orust kommun"}, base)
    assert answer.status_code == 303, answer.text  # type: ignore[attr-defined]
    last = _events(demo_app, "akst")[-1]
    assert (last.trigger, last.actor_email) == ("lagg_till_part", CHEF)
    # Another förbund's set-up stays not found for the förbundschef too.
    assert chef.get("/installningar/nv").status_code == 404


def test_another_forbunds_setup_is_not_found_and_others_may_not(
    client_as: ClientFactory, demo_app: App
) -> None:
    akst_admin = client_as(Role.ADMIN)
    nv_person = _id_of(demo_app, Person, email=demo_login(Role.ADMIN, "nv").email)
    for path in ("/installningar/nv", f"/installningar/nv/personer/{nv_person}"):
        assert akst_admin.get(path).status_code == 404
    answer = _post(akst_admin, "/installningar/nv/parter", {"kind": "kommun", "name": "X"}, "/")
    assert answer.status_code == 404  # type: ignore[attr-defined]
    # The person's own förbund but another's person: not found either.
    assert akst_admin.get(f"/installningar/akst/personer/{nv_person}").status_code == 404
    # A förbund admin is not an installation admin.
    assert akst_admin.get("/installningar/forbund").status_code == 403

    for role in (Role.HANDLAGGARE, Role.SEKRETERARE, Role.STYRELSE_ORDFORANDE):
        other = client_as(role)
        assert other.get("/installningar").status_code == 403
        assert other.get("/installningar/akst").status_code == 403
        assert other.get("/installningar/akst/forbund.yaml").status_code == 403
        answer = _post(other, "/installningar/akst/parter", {"kind": "kommun", "name": "Y"}, "/")
        assert answer.status_code == 403  # type: ignore[attr-defined]
        assert "Inställningar" not in other.get("/").text.split("<main")[0]


def test_an_installation_admin_founds_a_forbund_recorded_with_their_name(
    client_as: ClientFactory, demo_app: App
) -> None:
    demo_app.settings.installation_admins = [f"akst:{ADMIN}"]
    client = client_as(Role.ADMIN)
    page = client.get("/installningar/forbund")
    assert page.status_code == 200 and "Skapa ett förbund" in page.text
    answer = client.post_form(
        "/installningar/forbund",
        {
            "slug": "orust",
            "name": "Samordningsförbundet Orust",
            "admin_name": "Olle Admin",
            "admin_email": "olle@orust.example",
        },
        token_from="/installningar/forbund",
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    founded = _events(demo_app, "orust")
    assert [e.trigger for e in founded] == ["skapa_forbund", "lagg_till_person"]
    assert all(e.data["operator"] == f"{ADMIN} (akst)" and e.channel == "web" for e in founded)
    # The akst admin manages akst only: the new förbund's set-up is not theirs.
    assert client.get("/installningar/orust").status_code == 404
    again = client.post_form(
        "/installningar/forbund",
        {"slug": "orust", "name": "X", "admin_name": "Y", "admin_email": "y@orust.example"},
        token_from="/installningar/forbund",
    )
    assert again.status_code == 400 and "finns redan" in again.text


def test_installation_admin_is_named_and_holds_the_admin_role(demo_app: App) -> None:
    demo_app.settings.installation_admins = [f"akst:{ADMIN}", f"akst:{CHEF}", "trasig"]
    assert admin.is_installation_admin(demo_app, forbund="akst", email=ADMIN.upper())
    # Named but not an administrator of that förbund; an admin of another förbund.
    assert not admin.is_installation_admin(demo_app, forbund="akst", email=CHEF)
    assert not admin.is_installation_admin(
        demo_app, forbund="nv", email=demo_login(Role.ADMIN, "nv").email
    )
    with pytest.raises(NotPermitted):
        admin.found_forbund_by(
            demo_app,
            by_forbund="akst",
            by_email=CHEF,
            slug="x",
            name="X",
            admin_email="a@x.example",
            admin_name="A",
        )


def test_a_person_cannot_deactivate_themselves_and_an_edit_is_all_or_nothing(
    demo_app: App,
) -> None:
    me = _id_of(demo_app, Person, email=ADMIN)
    with pytest.raises(BadInput, match="dig själv"):
        people.set_person_active(
            demo_app, actor_email=ADMIN, person_id=me, active=False, forbund="akst"
        )
    chef = people.get_person(demo_app, email=CHEF, forbund="akst")
    with pytest.raises(BadInput):
        people.edit_person(
            demo_app,
            actor_email=ADMIN,
            person_id=chef.id,
            name="Nytt Namn",
            email=chef.email,
            party=None,
            roles=["ingen-sadan-roll"],
            forbund="akst",
        )
    assert people.get_person(demo_app, email=CHEF, forbund="akst").name == chef.name


def test_the_boards_warnings_show_on_its_page(client_as: ClientFactory, demo_app: App) -> None:
    client = client_as(Role.ADMIN)
    base = "/installningar/akst"
    _post(client, f"{base}/organ", {"kind": "styrelse", "name": "Nya styrelsen"}, base)
    organ = _id_of(demo_app, Organ, name="Nya styrelsen")
    ledamot = _id_of(demo_app, Person, email=demo_login(Role.STYRELSE_LEDAMOT, "akst").email)
    answer = _post(
        client,
        f"{base}/organ/{organ}/uppdrag",
        {
            "person": str(ledamot),
            "role": "ledamot",
            "mandate_from": "2019-04-01",
            "mandate_to": "2023-03-31",
        },
        f"{base}/organ/{organ}",
    )
    assert answer.status_code == 303  # type: ignore[attr-defined]
    page = client.get(f"{base}/organ/{organ}").text
    assert "mandatet gick ut 2023-03-31" in page
    assert "varje ledamot ska ha en ersättare" in page
    assert "Att se över" in client.get(base).text
    refused = _post(
        client,
        f"{base}/organ/{organ}/uppdrag",
        {
            "person": str(ledamot),
            "role": "ledamot",
            "elected": "2022",
            "mandate_from": "2023-04-01",
        },
        f"{base}/organ/{organ}",
    )
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "antingen valår" in refused.text  # type: ignore[attr-defined]


def test_the_yaml_file_downloads_and_uploads_as_the_cli_reads_it(
    client_as: ClientFactory, demo_app: App, tmp_path: object
) -> None:
    client = client_as(Role.ADMIN)
    base = "/installningar/akst"
    download = client.get(f"{base}/forbund.yaml")
    assert download.status_code == 200
    assert download.text == forbund_file.export_forbund(demo_app, "akst")
    assert "attachment" in download.headers["content-disposition"]
    changed = download.text.replace(
        "parties:\n", "parties:\n- {kind: kommun, name: Lysekils kommun}\n", 1
    )
    assert changed != download.text
    token = client.csrf(base)
    answer = client.post(
        f"{base}/import",
        data={"csrf_token": token},
        files={"file": ("akst.yaml", changed.encode(), "application/yaml")},
    )
    assert answer.status_code == 200, answer.text
    assert "part Lysekils kommun tillagd" in answer.text
    event = _events(demo_app, "akst")[-1]
    assert (event.trigger, event.actor_email, event.channel) == ("lagg_till_part", ADMIN, "web")
    # Another förbund's file is refused from this förbund's page, nothing changed.
    other = forbund_file.export_forbund(demo_app, "nv")
    head = _head(demo_app, "nv")
    answer = client.post(
        f"{base}/import",
        data={"csrf_token": token},
        files={"file": ("nv.yaml", other.encode(), "application/yaml")},
    )
    assert answer.status_code == 400 and "gäller förbundet &#39;nv&#39;" in answer.text
    assert "/tmp" not in answer.text
    assert _head(demo_app, "nv") == head


def test_import_from_a_forbunds_page_changes_that_forbund_only(demo_app: App, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "nv.yaml"
    path.write_text(forbund_file.export_forbund(demo_app, "nv"), encoding="utf-8")
    with pytest.raises(BadInput, match="gäller förbundet 'nv'"):
        forbund_import.import_file(
            demo_app, path, actor_email=ADMIN, operator=ADMIN, only_forbund="akst"
        )


# -- styrdokument -----------------------------------------------------------------------------


def _policy_id(app: App, title: str) -> int:
    return next(v.id for v in documents.list_policies(app, forbund="akst") if v.title == title)


def test_the_register_marks_overdue_documents_and_takes_each_step(
    client_as: ClientFactory, demo_app: App
) -> None:
    chef = client_as(Role.FORBUNDSCHEF)
    answer = chef.post_form(
        "/styrdokument",
        {
            "kind": "policy",
            "title": "Policy för lika villkor",
            "decided_by": "Styrelsen",
            "decided_on": "2018-12-11",
            "dnr": "2018/004-01",
        },
        token_from="/styrdokument",
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    overdue = _policy_id(demo_app, "Policy för lika villkor")
    page = chef.get(f"/styrdokument/{overdue}").text
    assert "2022-12-31" in page and "Försenad" in page and "2018/004-01" in page
    listing = chef.get("/styrdokument").text
    row = re.search(r"<tr class=\"is-overdue\">.*?Policy för lika villkor.*?</tr>", listing, re.S)
    assert row is not None and "Försenad" in row.group(0)
    start = chef.get("/").text
    assert "Styrdokument att förnya" in start and "Policy för lika villkor" in start
    assert "Styrdokument att förnya" not in client_as(Role.HANDLAGGARE).get("/").text

    # Renewed from the page: a new decision, a new last day, no longer overdue.
    refused = chef.post_form(
        f"/styrdokument/{overdue}/steg",
        {"trigger": "fornya"},
        token_from=f"/styrdokument/{overdue}",
    )
    assert refused.status_code == 400 and "kommentar" in refused.text
    answer = chef.post_form(
        f"/styrdokument/{overdue}/steg",
        {"trigger": "fornya", "comment": "§ 12", "decided_on": "2026-11-27"},
        token_from=f"/styrdokument/{overdue}",
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    view = documents.get_policy(demo_app, ref=f"sd-{overdue}", forbund="akst")
    assert (view.overdue, view.renew_by.isoformat() if view.renew_by else None) == (
        False,
        "2030-12-31",
    )
    assert "Policy för lika villkor" not in chef.get("/").text

    # A draft: to samråd, then adopted.
    chef.post_form(
        "/styrdokument",
        {"kind": "delegationsordning", "title": "Ny delegationsordning"},
        token_from="/styrdokument",
    )
    draft = _policy_id(demo_app, "Ny delegationsordning")
    assert "Skicka på samråd" in chef.get(f"/styrdokument/{draft}").text
    for data in (
        {"trigger": "skicka_pa_samrad"},
        {"trigger": "faststall", "comment": "§ 30", "decided_by": "Styrelsen"},
    ):
        answer = chef.post_form(
            f"/styrdokument/{draft}/steg",
            data,
            token_from=f"/styrdokument/{draft}",
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
    view = documents.get_policy(demo_app, ref=f"sd-{draft}", forbund="akst")
    assert (view.state, view.decided_by) == ("faststalld", "Styrelsen")
    steps = [e for e in _events(demo_app, "akst") if e.subject_kind == "styrdokument"][-6:]
    assert [e.trigger for e in steps] == [
        "registrera",
        "revidering_kravs",
        "faststall",
        "registrera",
        "skicka_pa_samrad",
        "faststall",
    ]
    assert {(e.actor_email, e.channel) for e in steps} == {(CHEF, "web")}


def test_who_may_register_and_another_forbunds_document(
    client_as: ClientFactory, demo_app: App
) -> None:
    handlaggare = client_as(Role.HANDLAGGARE)
    listing = handlaggare.get("/styrdokument")
    assert listing.status_code == 200 and "Registrera ett styrdokument" not in listing.text
    answer = handlaggare.post_form(
        "/styrdokument", {"kind": "policy", "title": "Otillåten"}, token_from="/styrdokument"
    )
    assert answer.status_code == 403
    some = documents.list_policies(demo_app, forbund="akst")[0].id
    assert client_as(Role.FORBUNDSCHEF, "nv").get(f"/styrdokument/{some}").status_code == 404


def _sent_roles(page: str) -> list[str]:
    """The roles the person form sends as a browser would: its checked boxes and hidden roles."""
    sent = []
    for tag in re.findall(r"<input[^>]*>", page.split('name="name"')[1].split("</form>")[0]):
        if 'name="roles"' in tag and ("checked" in tag or 'type="hidden"' in tag):
            sent.append(re.search(r'value="([^"]+)"', tag).group(1))  # type: ignore[union-attr]
    return sent


def test_only_an_administrator_gives_or_takes_the_admin_role(
    client_as: ClientFactory, demo_app: App
) -> None:
    handlaggare = demo_login(Role.HANDLAGGARE, "akst").email
    before = _head(demo_app, "akst")
    # The förbundschef manages people but cannot give the admin role, nor take it.
    for add, remove in ((["admin"], []), ([], ["admin"])):
        whom = handlaggare if add else ADMIN
        with pytest.raises(NotPermitted, match="bara en administratör"):
            people.change_roles(
                demo_app, actor_email=CHEF, email=whom, add=add, remove=remove, forbund="akst"
            )
    with pytest.raises(NotPermitted, match="bara en administratör"):
        people.create_person(
            demo_app,
            actor_email=CHEF,
            forbund="akst",
            name="Ny Admin",
            email="ny.admin@akst.example",
            roles=["admin"],
        )
    assert _head(demo_app, "akst") == before  # nothing written
    # On the web the chef sees the box as it stands; saving the admin's name keeps the role.
    chef = client_as(Role.FORBUNDSCHEF)
    admin_id = _id_of(demo_app, Person, email=ADMIN)
    path = f"/installningar/akst/personer/{admin_id}"
    page = chef.get(path).text
    assert re.search(r'<input[^>]*value="admin"[^>]*disabled', page)
    assert "Bara en administratör kan ge eller ta den här rollen." in page
    held = people.get_person(demo_app, email=ADMIN, forbund="akst")
    sent = {"name": "Annan Administratör", "email": ADMIN, "party": "", "roles": _sent_roles(page)}
    assert _post(chef, path, sent, path).status_code == 303  # type: ignore[attr-defined]
    after = people.get_person(demo_app, email=ADMIN, forbund="akst")
    assert after.name == "Annan Administratör" and after.roles == held.roles
    # A form sent with the admin role added by hand is refused, and nothing changes.
    other_id = _id_of(demo_app, Person, email=handlaggare)
    other = f"/installningar/akst/personer/{other_id}"
    forged = {"name": "X", "email": handlaggare, "party": "", "roles": ["admin", "handlaggare"]}
    assert _post(chef, other, forged, other).status_code == 403  # type: ignore[attr-defined]
    assert "admin" not in people.get_person(demo_app, email=handlaggare, forbund="akst").roles
    # An administratör may do both.
    people.change_roles(
        demo_app, actor_email=ADMIN, email=handlaggare, add=["admin"], forbund="akst"
    )
    page = client_as(Role.ADMIN).get(other).text
    assert not re.search(r'<input[^>]*value="admin"[^>]*disabled', page)
