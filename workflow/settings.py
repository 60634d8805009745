"""One settings object, read once at start-up; nothing else reads the environment.

Precedence, highest first: values given on the command line, FINSAM_* environment
variables (FINSAM_MAIL__SMTP_HOST for nested ones), the deployment's config/finsam.toml
(--config DIR), the shipped defaults.

The sources are merged here rather than by pydantic-settings: importing that library (with
the cloud, dotenv and argparse sources it loads) cost every command about 10 ms of CPU, a
tenth of what `cases show` spent beyond its import floor (README, "bench/startup.py"), for
three sources that fit in a page. What it did, this does: names are case-insensitive, `__`
nests, a list, table or section given in one variable is JSON, and the sources are merged key
by key, so a variable or an override changes one value of a section and keeps the rest.
"""

from __future__ import annotations

import json
import os
import tomllib
import types
from collections.abc import Mapping
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from workflow.errors import DefinitionError

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_FOLDERS = ("states", "config", "notifications")


def shipped_dir(name: str) -> Path:
    """Where the shipped copy of a data folder is: inside the wheel, or the checkout's top."""
    packaged = PACKAGE_DIR / "_data" / name
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / name


class MeetingSettings(BaseModel):
    """[meetings] in config/finsam.toml: board meetings, protocol, anslag."""

    model_config = ConfigDict(extra="forbid")

    # The kallelse goes out this many days before the meeting.
    kallelse_days_before: int = Field(default=7, ge=0, le=60)
    # The protocol should be justerat within this many days of the meeting.
    justering_days: int = Field(default=14, ge=1, le=90)
    # The anslag is posted at most this many days after justering.
    anslag_days_after_justering: int = Field(default=2, ge=0, le=30)
    # Överklagandetid: the anslag stays up this long (laglighetsprövning, 3 weeks by default).
    appeal_weeks: int = Field(default=3, ge=1, le=12)
    # How many justerare a protocol needs besides the ordförande.
    justerare_count: int = Field(default=1, ge=1, le=2)
    # Where the justerat protocol is kept (the ANSLAG/BEVIS block).
    storage_place: str = "Förbundets kansli"
    # "Ta med alla redo" puts at most this many ready cases on one board agenda; with more
    # ready, the förbundschef chooses which the meeting takes up (services/board/agenda.py).
    max_ready_on_agenda: int = Field(default=50, ge=1, le=500)


class FundingSettings(BaseModel):
    """[funding] in config/finsam.toml: budget frame, agreements, report plan defaults."""

    model_config = ConfigDict(extra="forbid")

    # FINSAM § 5: the state (FK, covering AF) half, regions a quarter, kommuner a quarter.
    state_percent: int = 50
    region_percent: int = 25
    kommun_percent: int = 25
    # Weights per kommun name for the kommuner's quarter (avsiktsförklaring); empty = equal.
    kommun_split: dict[str, float] = {}
    # Report plan of a new avtal: month-day of the delår and helår reports, slutrapport months
    # after the end date.
    delar_due: str = "06-30"
    helar_due: str = "12-31"
    slut_months_after_end: int = 3
    # A payment waits until the report due before it is approved.
    payment_waits_for_report: bool = True
    payment_terms: str = (
        "Utbetalning sker efter rekvisition; nästa utbetalning görs när föregående rapport "
        "är godkänd av förbundschefen."
    )
    # Follow-up questions after an implemented insats, months after the board took note.
    followup_months: list[int] = [6, 12]
    # National pattern for the split of insats costs: individual-oriented share in percent.
    national_individ_percent: int = 80

    @field_validator("kommun_percent")
    @classmethod
    def _shares_sum_to_100(cls, value: int, info: Any) -> int:
        total = info.data.get("state_percent", 0) + info.data.get("region_percent", 0) + value
        if total != 100:
            raise ValueError(f"andelarna stat + region + kommuner ska bli 100, inte {total}")
        return value

    @field_validator("delar_due", "helar_due")
    @classmethod
    def _month_day(cls, value: str) -> str:
        try:
            month, day = (int(part) for part in value.split("-"))
            date(2001, month, day)
        except ValueError:
            raise ValueError(f"{value!r} är ingen dag; skriv MM-DD, t.ex. 06-30") from None
        return value

    @field_validator("followup_months")
    @classmethod
    def _positive_months(cls, value: list[int]) -> list[int]:
        if any(m <= 0 for m in value):
            raise ValueError("uppföljningsfrågor ställs ett positivt antal månader efter")
        return sorted(set(value))


class MailSettings(BaseModel):
    """[mail] in config/finsam.toml: SMTP delivery and the scheduler."""

    model_config = ConfigDict(extra="forbid")

    # Without a host, messages wait in the outbox (`finsam outbox list` shows them).
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    # none: plain (a relay on the same machine); starttls: upgrade on 587; tls: implicit on 465.
    security: Literal["none", "starttls", "tls"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    from_address: str = "finsam@localhost"
    from_name: str = "Samordningsförbundet"
    timeout_seconds: float = Field(default=30.0, gt=0)
    # A temporary answer about one message (4xx after MAIL/RCPT/DATA, or no answer after DATA)
    # is retried after base, doubled per attempt, capped; the message fails only after both
    # max_attempts tries and give_up_days of such answers (Postfix keeps trying for 5 days).
    # A relay that cannot be reached at all costs no attempt: messages wait (relay.py).
    max_attempts: int = Field(default=8, ge=1)
    retry_base_seconds: int = Field(default=60, ge=1)
    retry_max_seconds: int = Field(default=6 * 3600, ge=1)
    give_up_days: float = Field(default=5.0, gt=0)
    # While the relay is down it is tried again after base, doubled, at most this often.
    relay_probe_max_seconds: int = Field(default=900, ge=1)
    # A sender's heartbeat runs every lease_seconds / 4; another sender takes its messages
    # over after watching the heartbeat stand still this long (workers.py).
    lease_seconds: int = Field(default=600, ge=1)
    # The scheduler's sweep interval (minutes, fractions allowed), and the local hour a
    # reminder goes out on its day.
    sweep_minutes: float = Field(default=5, gt=0, le=60)
    send_hour: int = Field(default=8, ge=0, le=23)
    # A weekly digest (a person's choice, services/reminders/digests.py) goes out on this day
    # (1 Monday ... 7 Sunday) at send_hour; a daily one at send_hour each day.
    digest_weekday: int = Field(default=1, ge=1, le=7)
    # A scheduler that has not swept for this long (database clock) shows as an incident.
    stale_minutes: float = Field(default=15, gt=0)
    # A reminder whose day passed more than this long before it was first planned is not sent.
    catch_up_days: int = Field(default=14, ge=0)


# Sweden Connect's OIDC profile: the personal identity number claim and the scope asking for it.
# Never asked for, never stored, never a way to find a person (domain.md §4).
PERSONAL_NUMBER_CLAIM = "https://id.oidc.se/claim/personalIdentityNumber"
PERSONAL_NUMBER_SCOPE = "https://id.oidc.se/scope/naturalPersonNumber"


class OidcSettings(BaseModel):
    """[web.oidc.<förbund>] in config/finsam.toml: login through the förbund's OpenID provider."""

    model_config = ConfigDict(extra="forbid")

    # The provider's issuer; its metadata is read from <issuer>/.well-known/openid-configuration.
    issuer: str
    client_id: str
    # The NAME of the environment variable holding the client secret (never the secret itself
    # in the file); unset for a public client that relies on PKCE alone.
    client_secret_env: str | None = None
    # Filled from that variable when the settings are read (nothing else reads the environment).
    client_secret: SecretStr | None = None
    scopes: list[str] = ["openid", "email"]
    # Which claim finds the person: "email" (the person's e-mail in this förbund), or another
    # claim ("sub", an HSA-id claim) whose value is an identity linked with
    # `finsam people identity EMAIL --issuer ... --subject ...`.
    person_claim: str = "email"
    # The text of the button on the login page.
    label: str = "Logga in med e-legitimation"

    @field_validator("issuer")
    @classmethod
    def _issuer_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("issuer ska vara en adress som börjar med https://")
        return value.rstrip("/")

    @field_validator("scopes")
    @classmethod
    def _no_personal_number_scope(cls, value: list[str]) -> list[str]:
        if PERSONAL_NUMBER_SCOPE in value:
            raise ValueError("personnummer får inte begäras; ta bort scopet för personnummer")
        if "openid" not in value:
            raise ValueError("scopes måste innehålla openid")
        return value

    @field_validator("person_claim")
    @classmethod
    def _not_personal_number(cls, value: str) -> str:
        if value == PERSONAL_NUMBER_CLAIM:
            raise ValueError(
                "personnummer får inte användas för att hitta personen; välj email, sub eller HSA-id"
            )
        return value

    @model_validator(mode="after")
    def _secret_from_environment(self) -> OidcSettings:
        if self.client_secret is None and self.client_secret_env:
            secret = os.environ.get(self.client_secret_env)
            if not secret:
                raise ValueError(
                    f"miljövariabeln {self.client_secret_env} med klienthemligheten är inte satt"
                )
            self.client_secret = SecretStr(secret)
        return self

    @property
    def by_email(self) -> bool:
        return self.person_claim == "email"


class PasswordHashSettings(BaseModel):
    """[web.password_hash] in config/finsam.toml: argon2id's cost for local passwords.

    The defaults are argon2-cffi's, RFC 9106's low-memory profile (64 MiB, 3 passes, 4 lanes);
    a login whose stored hash has other parameters is rehashed with these. The tests lower
    them (tests/conftest.py) so that a login does not cost them half a second of CPU."""

    model_config = ConfigDict(extra="forbid")

    time_cost: int = Field(default=3, ge=1)
    memory_cost: int = Field(default=65536, ge=8)  # KiB
    parallelism: int = Field(default=4, ge=1)

    @model_validator(mode="after")
    def _enough_memory(self) -> PasswordHashSettings:
        if self.memory_cost < 8 * self.parallelism:
            raise ValueError("memory_cost måste vara minst 8 KiB per parallell tråd")
        return self


class WebSettings(BaseModel):
    """[web] in config/finsam.toml: the web application (`finsam serve`)."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # The address people reach the site at, for links in e-mail (a password link).
    public_url: str = "http://127.0.0.1:8000"
    # A session ends after this long without a request, and at the latest this long after login.
    session_idle_minutes: int = Field(default=60, ge=1)
    session_absolute_minutes: int = Field(default=12 * 60, ge=1)
    # The session cookie is Secure (https only); plain http is then allowed only on loopback,
    # for the demo. Turn off only behind a proxy that cannot say X-Forwarded-Proto.
    secure_cookies: bool = True
    # Proxies whose X-Forwarded-For/-Proto are believed (uvicorn's forwarded_allow_ips).
    trusted_proxies: list[str] = []
    # Shown on the tillgänglighetsredogörelse and the error pages: where to write.
    contact_email: str = "kansliet@example.se"
    # Login throttle: after this many failed logins within the window, per account (the
    # e-mail given) or per address, the next attempts are refused until the window has passed.
    login_window_minutes: int = Field(default=15, ge=1)
    login_failures_per_account: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=20, ge=1)
    # A password link sent by e-mail works once, for this long.
    password_link_minutes: int = Field(default=60, ge=5)
    # A check of the audit chain running in a web process beats every lease / 4 seconds;
    # another process marks it interrupted after watching the beat stand still this long.
    audit_check_lease_seconds: int = Field(default=120, ge=1)
    # argon2id's cost for local passwords ([web.password_hash]).
    password_hash: PasswordHashSettings = PasswordHashSettings()
    # OpenID Connect login per förbund (slug): [web.oidc.<slug>] tables, see OidcSettings.
    oidc: dict[str, OidcSettings] = {}

    @field_validator("session_absolute_minutes")
    @classmethod
    def _absolute_not_shorter(cls, value: int, info: Any) -> int:
        if value < info.data.get("session_idle_minutes", 0):
            raise ValueError(
                "den absoluta tidsgränsen får inte vara kortare än den för inaktivitet"
            )
        return value


class AttachmentSettings(BaseModel):
    """[attachments] in config/finsam.toml: files of applications, reports and agreements."""

    model_config = ConfigDict(extra="forbid")

    # Where the files are kept, each named by the SHA-256 of its content. Relative: from the
    # working directory. Back it up with the database.
    directory: Path = Path("bilagor")
    # The largest file taken, in bytes.
    max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # The kinds of file taken: file name ending -> the type it is served as.
    types: dict[str, str] = {
        "pdf": "application/pdf",
        "doc": "application/msword",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls": "application/vnd.ms-excel",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt": "application/vnd.ms-powerpoint",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt": "application/vnd.oasis.opendocument.text",
        "ods": "application/vnd.oasis.opendocument.spreadsheet",
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
    }


class Settings(BaseModel):
    # The defaults are validated too (an unknown default zone would stop start-up).
    model_config = ConfigDict(extra="forbid", validate_default=True)

    database_url: str = "sqlite:///finsam.db"
    timezone: str = "Europe/Stockholm"
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    default_dnr_pattern: str = "{year}/{seq:03d}"
    # A deployment folder holding its own states/, config/ and notifications/.
    config_dir: Path | None = None
    forbund: str | None = None
    # The administrators of the whole installation, who may found förbund from the web:
    # "<förbund>:<e-post>" of a person with the role admin in that förbund (the CLI's
    # `finsam forbund create` needs none: whoever runs it on the machine is the installation).
    installation_admins: list[str] = []
    meetings: MeetingSettings = MeetingSettings()
    funding: FundingSettings = FundingSettings()
    mail: MailSettings = MailSettings()
    web: WebSettings = WebSettings()
    attachments: AttachmentSettings = AttachmentSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"okänd tidszon {value!r}") from exc
        return value

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def data_dir(self, name: str) -> Path:
        """The folder `name` (states, config, notifications) this deployment uses."""
        if self.config_dir is not None and (self.config_dir / name).is_dir():
            return self.config_dir / name
        return shipped_dir(name)


ENV_PREFIX = "FINSAM_"
NESTED = "__"  # FINSAM_MAIL__SMTP_HOST is mail.smtp_host


def _optional_of(annotation: Any) -> Any:
    """X for `X | None`; any other annotation as it is."""
    if get_origin(annotation) in (Union, types.UnionType):
        given = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(given) == 1:
            return given[0]
    return annotation


def _has_parts(annotation: Any) -> bool:
    """Whether a value has parts a variable may name: a section (a model) or a table."""
    annotation = _optional_of(annotation)
    return get_origin(annotation) is dict or (
        isinstance(annotation, type) and issubclass(annotation, BaseModel)
    )


def _member(annotation: Any, key: str) -> Any | None:
    """The annotation of `key` inside a section or a table; None if the section has no such
    setting (validation then names it)."""
    annotation = _optional_of(annotation)
    if get_origin(annotation) is dict:
        return get_args(annotation)[1]
    field = annotation.model_fields.get(key)
    return field.annotation if field is not None else None


def _is_json(annotation: Any) -> bool:
    """Whether a variable for this value is read as JSON: a section, a list or a table."""
    annotation = _optional_of(annotation)
    kind = get_origin(annotation) or annotation
    return isinstance(kind, type) and issubclass(kind, (BaseModel, list, dict, set, tuple))


def _merge(into: dict[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `values` into `into` key by key (a table into a table), `values` winning; the
    tables are copied, never shared with the caller's."""
    for key, value in values.items():
        if isinstance(value, Mapping):
            if not isinstance(into.get(key), dict):
                into[key] = {}
            _merge(into[key], value)
        else:
            into[key] = value
    return into


def _environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The FINSAM_* variables that name a setting, as nested values.

    A variable whose first part names no setting is not one of ours (FINSAM_REQUIRE_POSTGRES,
    the secret a client_secret_env names). One naming a part of a section that the section
    lacks is kept, so that validation refuses it (FINSAM_MAIL__SMTP_HOTS is not ignored).
    Sorted, a whole value comes before its parts (FINSAM_MAIL before FINSAM_MAIL__SMTP_HOST),
    and the parts are merged into it.
    """
    values: dict[str, Any] = {}
    for name in sorted(environ, key=str.lower):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX) :].lower().split(NESTED)
        field = Settings.model_fields.get(path[0])
        if field is None:
            continue
        annotation: Any = field.annotation
        for depth, key in enumerate(path[1:], start=1):
            if annotation is None:
                break  # inside a part the section lacks: validation names that part
            if not _has_parts(annotation):
                raise DefinitionError(
                    f"miljövariabeln {name}: {'.'.join(path[:depth])} har inga delar; "
                    "ange den utan __"
                )
            annotation = _member(annotation, key)
        value: Any = environ[name]
        if value and annotation is not None and _is_json(annotation):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise DefinitionError(
                    f"miljövariabeln {name}: ogiltig JSON ({exc.msg}); en lista, tabell eller "
                    'sektion anges som JSON, t.ex. ["a", "b"]'
                ) from None
        for key in reversed(path):
            value = {key: value}
        _merge(values, value)
    return values


def load_settings(**overrides: Any) -> Settings:
    """Build the settings; a broken file or value stops with one line naming it."""
    given = {k: v for k, v in overrides.items() if v is not None}
    config_dir = given.get("config_dir") or os.environ.get("FINSAM_CONFIG_DIR")
    if config_dir is not None:
        config_dir = Path(config_dir)
        if not config_dir.is_dir():
            raise DefinitionError(
                f"konfigurationsmappen {config_dir} finns inte; ange en befintlig mapp med --config"
            )
        given["config_dir"] = config_dir
    files = [shipped_dir("config") / "finsam.toml"]
    if config_dir is not None and (config_dir / "config" / "finsam.toml").is_file():
        files.append(config_dir / "config" / "finsam.toml")
    # Lowest first: the shipped file, the deployment's, the environment, the command line.
    values: dict[str, Any] = {}
    try:
        for file in files:
            with file.open("rb") as handle:
                _merge(values, tomllib.load(handle))
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{file}: ogiltig TOML: {exc}") from None
    _merge(values, _environment(os.environ))
    _merge(values, given)
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise DefinitionError(
            f"inställningen {key!r}: {first['msg']} (se config/finsam.toml)"
        ) from None
