"""One settings object, read once at start-up; nothing else reads the environment.

Precedence, highest first: values given on the command line, FINSAM_* environment
variables (FINSAM_MAIL__SMTP_HOST for nested ones), the deployment's config/finsam.toml
(--config DIR), the shipped defaults.
"""

from __future__ import annotations

import os
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
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


class FundingSettings(BaseModel):
    """[funding] in config/finsam.toml: budget frame, agreements, report plan defaults."""

    model_config = ConfigDict(extra="forbid")


class MailSettings(BaseModel):
    """[mail] in config/finsam.toml: SMTP delivery and the scheduler."""

    model_config = ConfigDict(extra="forbid")


class Settings(BaseSettings):
    # Nested values from the environment: FINSAM_MAIL__SMTP_HOST=... sets mail.smtp_host.
    model_config = SettingsConfigDict(
        env_prefix="FINSAM_", env_nested_delimiter="__", extra="forbid"
    )

    database_url: str = "sqlite:///finsam.db"
    timezone: str = "Europe/Stockholm"
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    default_dnr_pattern: str = "{year}/{seq:03d}"
    # A deployment folder holding its own states/, config/ and notifications/.
    config_dir: Path | None = None
    forbund: str | None = None
    meetings: MeetingSettings = MeetingSettings()
    funding: FundingSettings = FundingSettings()
    mail: MailSettings = MailSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"okänd tidszon {value!r}") from exc
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Command line beats environment beats the deployment's file beats the shipped file.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def data_dir(self, name: str) -> Path:
        """The folder `name` (states, config, notifications) this deployment uses."""
        if self.config_dir is not None and (self.config_dir / name).is_dir():
            return self.config_dir / name
        return shipped_dir(name)


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
    # The files of this deployment, later ones winning; see Settings.settings_customise_sources.
    deployment = type(
        "DeploymentSettings",
        (Settings,),
        {"model_config": {**Settings.model_config, "toml_file": files}},
    )
    try:
        return deployment(**given)
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{files[-1]}: ogiltig TOML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise DefinitionError(
            f"inställningen {key!r}: {first['msg']} (se config/finsam.toml)"
        ) from None
