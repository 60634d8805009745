"""Reminder rules and templates are data a förbund edits; a broken one stops start-up."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workflow.cli.main import run
from workflow.settings import shipped_dir


def deployment_with(tmp_path: Path, file: str, old: str, new: str) -> Path:
    folder = tmp_path / "deployment"
    shutil.copytree(shipped_dir("notifications"), folder / "notifications")
    target = folder / "notifications" / file
    text = target.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


BROKEN_RULES = [
    (
        "rules.yaml",
        "to: [forbundschef], template: rapport",
        "to: [chefen], template: rapport",
        "rules.yaml: rules.report_due.steps[3] (eskalering).to: okänd roll 'chefen'",
    ),
    (
        "rules.yaml",
        "offset: -21d",
        "offset: -21 dagar",
        "rules.yaml: rules.report_due.steps[0] (fore_21).offset: ogiltig förskjutning '-21 dagar'",
    ),
    (
        "rules.yaml",
        'date: "09-01"',
        'date: "09-31"',
        "rules.verksamhetsplan_budget.steps[0] (forslag).date: ogiltigt datum '09-31'",
    ),
    (
        "rules.yaml",
        "source: insats_end",
        "source: insats_slut",
        "rules.insats_end.source: okänd källa 'insats_slut'",
    ),
]
BROKEN_TEMPLATES = [
    (
        "templates/insats_slut.html.j2",
        "{{ subject.title }}</strong>",
        "{{ subject.titel }}</strong>",
        "insats_slut.html.j2: går inte att fylla i med regelns exempeldata: 'dict object' has no attribute 'titel' (används av rules.yaml rules.insats_end.steps (fore_120).template)",
    ),
    (
        "templates/rapport.subject.j2",
        "{% if step.escalation %}",
        "{% if step.escalation %",
        "rapport.subject.j2: rad 1",
    ),
]
# The commands that plan, send or sweep render every template with sample data before they
# start; a command that only reads reminders checks the rules but renders no template.
WRITING = [
    ("reminders", "plan"),
    ("scheduler", "--once"),
    ("outbox", "retry", "1", "--as", "chef@akst.example"),
]
LISTING = ("reminders", "list")


@pytest.mark.parametrize(
    ("file", "old", "new", "named", "command"),
    [
        # A broken rule stops every command that reads the rules, listing reminders included.
        *((*case, command) for case in BROKEN_RULES for command in [*WRITING, LISTING]),
        # A broken template stops the commands that plan, send or sweep.
        *((*case, command) for case in BROKEN_TEMPLATES for command in WRITING),
    ],
)
def test_a_broken_rule_or_template_stops_start_up_with_one_line_naming_file_and_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    sqlite_url: str,
    file: str,
    old: str,
    new: str,
    named: str,
    command: tuple[str, ...],
) -> None:
    deployment = deployment_with(tmp_path, file, old, new)
    result = run(["--db", sqlite_url, "--config", str(deployment), *command])
    err = capsys.readouterr().err
    assert result == 2
    assert err.count("\n") == 1 and err.startswith("fel: ") and named in err, err


@pytest.mark.parametrize(("file", "old", "new", "named"), BROKEN_TEMPLATES)
def test_reading_reminders_renders_no_template_so_a_broken_one_does_not_stop_it(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    demo_url: str,
    file: str,
    old: str,
    new: str,
    named: str,
) -> None:
    deployment = deployment_with(tmp_path, file, old, new)
    common = ["--db", demo_url, "--config", str(deployment), "--forbund", "akst"]
    assert run([*common, "reminders", "list"]) == 0
    out = capsys.readouterr().out
    assert "Rapport ska lämnas in" in out and "väntar" in out, out  # the demo's reminders
    assert run([*common, "reminders", "rules"]) == 0
    assert "Insatsen närmar sig sitt slut" in capsys.readouterr().out
    # The same deployment stops what would write the messages, before it plans anything.
    assert run([*common, "reminders", "plan"]) == 2
    assert named in capsys.readouterr().err


def test_a_forbund_rewords_a_reminder_without_touching_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sqlite_url: str
) -> None:
    deployment = deployment_with(
        tmp_path,
        "rules.yaml",
        "label: Insatsen närmar sig sitt slut – förlänga eller implementera?",
        "label: Dags att planera insatsens slut",
    )
    assert (
        run(["--db", sqlite_url, "--config", str(deployment), "reminders", "rules", "--json"]) == 0
    )
    assert "Dags att planera insatsens slut" in capsys.readouterr().out


def test_every_shipped_template_escapes_case_data_in_html_and_not_in_text() -> None:
    from datetime import date

    from workflow.reminder_rules import load_notifications, reminder_context
    from workflow.services.reminders.due_dates import SOURCES, DueItem

    notifications = load_notifications(shipped_dir("notifications"))
    for rule in notifications.rules.values():
        sample = SOURCES[rule.source].sample
        hostile = DueItem(
            **{**sample.__dict__, "title": "A & <i>B</i>", "due_on": date(2026, 12, 31)}
        )
        for step in rule.steps:
            context = reminder_context(
                rule=rule,
                step=step,
                item=hostile,
                today=date(2026, 9, 1),
                forbund_name="F <x>",
                recipient_name="R",
            )
            rendered = notifications.templates.render(step.template, context)
            assert "<i>B</i>" not in rendered.html and "<x>" not in rendered.html, (
                rule.id,
                step.key,
            )
            assert "&lt;x&gt;" in rendered.html
            assert "\n" not in rendered.subject and rendered.subject.strip()
            assert "F <x>" in rendered.text


def test_a_template_broken_after_a_good_start_stops_the_next_start_in_the_same_process(
    tmp_path: Path,
) -> None:
    """Loaded definitions are kept per process by what their files hold (reminder_rules
    _LOADED): an edit is a new start, checked again, not the old load handed back."""
    from workflow.errors import DefinitionError
    from workflow.reminder_rules import load_notifications

    folder = deployment_with(tmp_path, "rules.yaml", "label:", "label:") / "notifications"
    first = load_notifications(folder)
    assert load_notifications(folder) is first  # nothing changed: the same load
    file, old, new, named = BROKEN_TEMPLATES[0]
    target = folder / file
    target.write_text(target.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DefinitionError, match=named.split(":")[0]):
        load_notifications(folder)
    # Mended again, it loads as before.
    target.write_text(target.read_text(encoding="utf-8").replace(new, old, 1), encoding="utf-8")
    assert load_notifications(folder) is first
