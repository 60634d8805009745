"""The settings a deployment gets from its four sources: the command line, FINSAM_* variables,
its own config/finsam.toml and the shipped one (workflow/settings.py), merged value by value."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflow.errors import DefinitionError
from workflow.settings import load_settings


@pytest.fixture
def deployment(tmp_path: Path) -> Path:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "finsam.toml").write_text(
        'timezone = "Europe/Helsinki"\n'
        "[mail]\n"
        'smtp_host = "relay.example"\n'
        'from_name = "Förbundet"\n'
        "[web.oidc.akst]\n"
        'issuer = "https://id.example/"\n'
        'client_id = "abc"\n',
        encoding="utf-8",
    )
    return tmp_path


def test_the_command_line_beats_the_environment_beats_the_deployment_beats_the_shipped_file(
    deployment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FINSAM_MAIL__SMTP_HOST", "env.example")
    monkeypatch.setenv("FINSAM_MAIL__FROM_ADDRESS", "env@akst.example")
    settings = load_settings(config_dir=deployment, mail={"from_address": "cli@akst.example"})
    assert settings.timezone == "Europe/Helsinki"  # the deployment's file over the shipped one
    assert settings.mail.smtp_host == "env.example"  # a variable over the file
    assert settings.mail.from_address == "cli@akst.example"  # the command line over a variable
    # Each source changes the values it names; the rest of the section stays.
    assert settings.mail.from_name == "Förbundet"
    assert settings.mail.smtp_port == 587
    assert settings.web.oidc["akst"].issuer == "https://id.example"


def test_a_variable_names_a_value_in_a_section_or_a_table_in_any_case(
    deployment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("finsam_mail__smtp_port", "2525")
    monkeypatch.setenv("FINSAM_WEB__OIDC__AKST__CLIENT_ID", "xyz")
    monkeypatch.setenv("FINSAM_FUNDING__KOMMUN_SPLIT__ale", "28")
    settings = load_settings(config_dir=deployment)
    assert settings.mail.smtp_port == 2525
    assert settings.web.oidc["akst"].client_id == "xyz"
    assert settings.web.oidc["akst"].issuer == "https://id.example"
    assert settings.funding.kommun_split == {"ale": 28.0}


def test_a_list_a_table_or_a_whole_section_in_a_variable_is_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FINSAM_INSTALLATION_ADMINS", '["akst:chef@akst.example"]')
    monkeypatch.setenv("FINSAM_WEB__TRUSTED_PROXIES", '["10.0.0.1"]')
    monkeypatch.setenv("FINSAM_MAIL", '{"smtp_host": "json.example", "smtp_port": 25}')
    monkeypatch.setenv("FINSAM_MAIL__SMTP_PORT", "26")  # a part given as well wins
    settings = load_settings()
    assert settings.installation_admins == ["akst:chef@akst.example"]
    assert settings.web.trusted_proxies == ["10.0.0.1"]
    assert (settings.mail.smtp_host, settings.mail.smtp_port) == ("json.example", 26)


def test_variables_that_name_no_setting_are_not_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSAM_REQUIRE_POSTGRES", "1")
    monkeypatch.setenv("FINSAM_OIDC_AKST_SECRET", "hemligt")  # a client_secret_env's variable
    assert load_settings().mail.smtp_host is None


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("FINSAM_MAIL__SMTP_HOTS", "relay.example", "inställningen 'mail.smtp_hots'"),
        ("FINSAM_MAIL__SMTP_PORT", "tjugofem", "inställningen 'mail.smtp_port'"),
        ("FINSAM_INSTALLATION_ADMINS", "akst:chef@akst.example", "ogiltig JSON"),
        ("FINSAM_DATABASE_URL__PATH", "x", "database_url har inga delar"),
        ("FINSAM_TIMEZONE", "Mars/Bas", "okänd tidszon"),
        # An agenda that takes no ready case at all: "Ta med alla" would never work.
        (
            "FINSAM_MEETINGS__MAX_READY_ON_AGENDA",
            "0",
            "inställningen 'meetings.max_ready_on_agenda'",
        ),
    ],
)
def test_a_misspelt_or_broken_variable_stops_start_up_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, words: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(DefinitionError) as error:
        load_settings()
    message = str(error.value)
    assert words in message and "\n" not in message


def test_a_broken_deployment_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    broken = tmp_path / "config" / "finsam.toml"
    broken.write_text("[mail\nsmtp_host = 1\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match=f"{broken}: ogiltig TOML"):
        load_settings(config_dir=tmp_path)
