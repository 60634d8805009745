"""The lifecycle definition is checked at load, and the shared machine keeps nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from workflow.actions import load_actions
from workflow.conditions import Facts
from workflow.errors import DefinitionError, NotPermitted
from workflow.lifecycle.definition import load_lifecycle
from workflow.lifecycle.engine import Engine
from workflow.services.organisation.people import Actor
from workflow.settings import shipped_dir

MINIMAL = """
lifecycle: mini
subject: styrdokument
initial: utkast
create_roles: [admin]
states:
  utkast: {label: Utkast}
  klar: {label: Klar, final: true}
transitions:
  - trigger: bli_klar
    from: utkast
    to: klar
    roles: [admin]
    conditions: [comment_given]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mini.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_lifecycles_load() -> None:
    insats = load_lifecycle(shipped_dir("states") / "insats.yaml")
    assert insats.initial == "ide" and "arkiverad" in insats.states
    assert load_lifecycle(shipped_dir("states") / "styrdokument.yaml").states["upphavd"].final


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("to: klar", "to: borta"), "transitions[0] (bli_klar).from/to: okänt tillstånd 'borta'"),
        (("[comment_given]", "[solsken]"), "okänt villkor 'solsken'"),
        (("roles: [admin]\n    cond", "roles: []\n    cond"), "minst en roll krävs"),
        (
            ("klar: {label: Klar, final: true}", "klar: {label: Klar}"),
            "states.klar: återvändsgränd",
        ),
        (
            ("  klar:", "  ensam: {label: Ensam, final: true}\n  klar:"),
            "states.ensam: kan inte nås",
        ),
        (("trigger: bli_klar", "trigger: is_klar"), "reserverat namn"),
        (("initial: utkast", "initial: start"), "initial: okänt tillstånd"),
        (("states:", "states: [fel]\nx:"), "states: ska vara en mappning"),
        (("transitions:", "transitions: {}\nold:"), "transitions: ska vara en lista"),
        (("lifecycle: mini", "lifecycle: mini\n  bad: [indent"), "ogiltig YAML"),
        (("{label: Utkast}", "{label: Utkast, tags: [solsken]}"), "states.utkast.tags: okänd tagg"),
        (
            ("    roles: [admin]\n", "    roles: [admin]\n    service: robot\n"),
            "okänd tjänst 'robot'",
        ),
    ],
)
def test_a_broken_definition_names_the_file_and_the_key(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    old, new = change
    assert old in MINIMAL
    path = write(tmp_path, MINIMAL.replace(old, new, 1))
    with pytest.raises(DefinitionError) as error:
        load_lifecycle(path)
    assert str(error.value).startswith(str(path)) and message in str(error.value)


def test_a_trigger_twice_from_the_same_state_is_refused(tmp_path: Path) -> None:
    doubled = (
        MINIMAL + "  - trigger: bli_klar\n    from: utkast\n    to: klar\n    roles: [admin]\n"
    )
    with pytest.raises(DefinitionError, match="finns redan"):
        load_lifecycle(write(tmp_path, doubled))


def test_the_shared_machine_detaches_every_case_even_on_refusal(tmp_path: Path) -> None:
    engine = Engine(load_lifecycle(write(tmp_path, MINIMAL)))
    facts = Facts(subject=None, today=date(2026, 1, 1), comment=None)
    assert engine.fire("utkast", "bli_klar", facts) == (
        None,
        [("comment_given", "en motivering krävs; ange den med --comment")],
    )
    assert engine.fire("klar", "bli_klar", facts)[0] is None
    facts.comment = "Beslutad av styrelsen § 4"
    assert engine.fire("utkast", "bli_klar", facts) == ("klar", [])
    assert engine.attached_count() == 0


def test_state_tags_say_which_states_a_rule_applies_to() -> None:
    insats = load_lifecycle(shipped_dir("states") / "insats.yaml")
    assert insats.tagged("funding_open") == {"avtal", "pagaende", "andring", "avslutas"}
    assert "avslutad_avslag" in insats.tagged("closed") and "pagaende" not in insats.tagged(
        "closed"
    )
    with pytest.raises(KeyError):
        insats.tagged("no_such_tag")


def test_the_shipped_actions_load_and_refuse_by_naming_who_may() -> None:
    actions = load_actions(shipped_dir("states") / "actions.yaml")
    secretary = Actor(1, "Sekreteraren", "sek@test.example", frozenset({"sekreterare"}))
    actions.require(secretary, "keep_protocol")
    with pytest.raises(NotPermitted) as error:
        actions.require(secretary, "approve_report")
    assert str(error.value) == (
        "sek@test.example får inte godkänna rapporter; det får: förbundschef"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("  keep_protocol:", "  kaffe: {label: koka kaffe, roles: [admin]}\n  keep_protocol:"),
            "actions.kaffe: okänd åtgärd",
        ),
        (
            (
                "{label: föra protokoll, roles: [sekreterare]}",
                "{label: föra protokoll, roles: [kock]}",
            ),
            "actions.keep_protocol.roles: okänd roll 'kock'",
        ),
        (
            ("  post_anslag: {label: anslå protokoll, roles: [sekreterare, admin]}\n", ""),
            "actions: saknar post_anslag",
        ),
        (
            (
                "relations: {projektagare: [project_owner]}",
                "relations: {projektagare: [grannen]}",
            ),
            "actions.submit_report.relations.projektagare: okänd relation 'grannen'",
        ),
    ],
)
def test_a_broken_actions_file_names_the_file_and_the_key(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    text = (shipped_dir("states") / "actions.yaml").read_text(encoding="utf-8")
    assert change[0] in text
    path = tmp_path / "actions.yaml"
    path.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(DefinitionError) as error:
        load_actions(path)
    assert str(error.value).startswith(str(path)) and message in str(error.value)
