"""`finsam forbund ...`, `finsam parties ...`, `finsam organs ...`: setting up a förbund.

Creating a förbund is done by the installation on behalf of the operator running the command
(their login name is recorded); every other change names the person acting (`--as`).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import asdict
from datetime import date
from pathlib import Path

import click

from workflow.app import App
from workflow.case_fields import parse_date
from workflow.cli.context import pass_app
from workflow.cli.output import emit, json_option, print_pairs, print_table
from workflow.cli.paged import emit_pages, page_options
from workflow.services.organisation import admin, forbund_file, forbund_import, organs, parties
from workflow.services.organisation.admin import ForbundView
from workflow.services.organisation.organs import OrganView

ACTOR = click.option("--as", "actor", required=True, metavar="EMAIL", help="Vem som gör ändringen.")


def operator() -> str:
    """Who runs the command on this machine: recorded with an installation-level change."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (some containers)
        return os.environ.get("USER") or "okänd operatör"


def _print_organ(view: OrganView) -> None:
    click.echo(f"{view.name} ({view.kind_label})")
    print_table(
        ["Uppdrag", "Namn", "E-post", "Part", "Mandat"],
        [
            [
                m.role_label + (f" {m.order}" if m.order else ""),
                m.name + ("" if m.active else " (inaktiverad)"),
                m.email,
                m.party,
                f"{m.mandate_from or '?'} – {m.mandate_to or '?'}"
                if m.mandate_from or m.mandate_to
                else "",
            ]
            for m in view.members
        ],
        empty="(inga ledamöter)",
    )


def _print_warnings(warnings: list[str]) -> None:
    if not warnings:
        click.echo("Inga varningar.")
        return
    click.echo("Varningar:")
    for warning in warnings:
        click.echo(f"  ! {warning}")


def _print_forbund(view: ForbundView) -> None:
    print_pairs(
        [
            ("Förbund", view.name),
            ("Kortnamn", view.slug),
            ("Organisationsnummer", view.orgnr or "–"),
            ("Diarienummer", view.dnr_pattern),
            ("Skapat", view.created_at),
            ("Personer", f"{view.active_people} aktiva av {view.people}"),
        ]
    )
    click.echo("")
    print_table(
        ["Part", "Typ"], [[p.name, p.kind_label] for p in view.parties], empty="(inga parter)"
    )
    for organ in view.organs:
        click.echo("")
        _print_organ(organ)
    click.echo("")
    _print_warnings(view.warnings)


# -- finsam forbund -------------------------------------------------------------------------


@click.group("forbund", help="Förbund: skapa, visa, läs in och skriv ut som YAML.")
def forbund_group() -> None:
    pass


@forbund_group.command(
    "create", help="Skapa ett förbund med dess första administratör (görs av installationen)."
)
@click.option("--slug", required=True, help="Kortnamn: a–z, 0–9 och '-', t.ex. nv.")
@click.option("--name", required=True, help="Förbundets namn.")
@click.option("--orgnr", help="Organisationsnummer, NNNNNN-NNNN.")
@click.option("--dnr-pattern", help="Diarienummermönster, t.ex. '{year}/{seq:03d}'.")
@click.option("--admin-email", required=True, metavar="EMAIL", help="Första administratören.")
@click.option("--admin-name", required=True, help="Administratörens namn.")
@json_option
@pass_app()
def create_command(
    app: App,
    slug: str,
    name: str,
    orgnr: str | None,
    dnr_pattern: str | None,
    admin_email: str,
    admin_name: str,
    as_json: bool,
) -> None:
    view = admin.found_forbund(
        app,
        slug=slug,
        name=name,
        orgnr=orgnr,
        dnr_pattern=dnr_pattern,
        admin_email=admin_email,
        admin_name=admin_name,
        operator=operator(),
    )

    def human() -> None:
        click.echo(
            f"Förbundet {view.name} ({view.slug}) är skapat; administratör {admin_email.lower()}."
        )
        click.echo(f"Fortsätt med: finsam --forbund {view.slug} parties add ... --as {admin_email}")

    emit(as_json, asdict(view), human)


@forbund_group.command("list", help="Lista installationens förbund.")
@json_option
@pass_app()
def list_command(app: App, as_json: bool) -> None:
    views = admin.list_forbund(app)
    emit(
        as_json,
        [{"slug": v.slug, "name": v.name, "orgnr": v.orgnr} for v in views],
        lambda: print_table(
            ["Kortnamn", "Förbund", "Organisationsnummer"],
            [[v.slug, v.name, v.orgnr] for v in views],
            empty="(inga förbund; skapa ett med 'finsam forbund create' eller 'finsam demo')",
        ),
    )


@forbund_group.command("show", help="Visa förbundet: parter, organ med ledamöter och varningar.")
@click.argument("slug", required=False)
@json_option
@pass_app()
def show_command(app: App, slug: str | None, as_json: bool) -> None:
    view = admin.get_forbund(app, slug or app.settings.forbund)
    emit(as_json, asdict(view), lambda: _print_forbund(view))


@forbund_group.command(
    "update", help="Ändra förbundets namn, organisationsnummer eller dnr-mönster."
)
@click.option("--name", help="Nytt namn.")
@click.option("--orgnr", help="Organisationsnummer (tom sträng tar bort det).")
@click.option("--dnr-pattern", help="Nytt diarienummermönster (gäller nya nummer).")
@ACTOR
@json_option
@pass_app()
def update_command(
    app: App,
    name: str | None,
    orgnr: str | None,
    dnr_pattern: str | None,
    actor: str,
    as_json: bool,
) -> None:
    view = admin.update_forbund(
        app,
        actor_email=actor,
        name=name,
        orgnr=orgnr,
        dnr_pattern=dnr_pattern,
        forbund=app.settings.forbund,
    )
    emit(as_json, asdict(view), lambda: click.echo(f"Förbundet {view.slug} är ändrat."))


@forbund_group.command(
    "import", help="Läs in ett helt förbund från en YAML-fil; en andra körning ändrar inget."
)
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--as",
    "actor",
    metavar="EMAIL",
    help="Administratör i förbundet (krävs när förbundet redan finns).",
)
@json_option
@pass_app()
def import_command(app: App, file: Path, actor: str | None, as_json: bool) -> None:
    # The file names its förbund; --forbund and FINSAM_FORBUND do not choose it.
    report = forbund_import.import_file(app, file, actor_email=actor, operator=operator())

    def human() -> None:
        if report.created:
            click.echo(
                f"Förbundet {report.name} ({report.forbund}) är skapat från {file} av "
                f"installationen för operatören {operator()}: {len(report.changes)} ändringar."
            )
        elif report.changes:
            click.echo(
                f"Förbundet {report.forbund} är uppdaterat från {file} av {report.actor}: "
                f"{len(report.changes)} ändringar."
            )
        else:
            click.echo(f"Inget att ändra: förbundet {report.forbund} stämmer med {file}.")
        for change in report.changes:
            click.echo(f"  + {change}")
        for note in report.notes:
            click.echo(f"  ({note})")

    emit(as_json, asdict(report), human)


@forbund_group.command("export", help="Skriv förbundet som YAML (för versionshantering).")
@click.argument("slug", required=False)
@click.option("--out", type=click.Path(path_type=Path), help="Fil att skriva; annars skärmen.")
@pass_app()
def export_command(app: App, slug: str | None, out: Path | None) -> None:
    text = forbund_file.export_forbund(app, slug or app.settings.forbund)
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    click.echo(f"Förbundet är skrivet till {out}")


@forbund_group.command(
    "history",
    help="Ändringar av förbundets organisation, med vem som gjorde dem (nyaste först, "
    "en sida i taget).",
)
@click.argument("slug", required=False)
@page_options
@json_option
@pass_app()
def history_command(
    app: App, slug: str | None, limit: int, after: str | None, all_pages: bool, as_json: bool
) -> None:
    forbund = slug or app.settings.forbund
    emit_pages(
        as_json=as_json,
        fetch=lambda start, size: admin.history_page(app, forbund, after=start, limit=size),
        after=after,
        limit=limit,
        all_pages=all_pages,
        to_json=asdict,
        headers=["Nr", "Tid", "Vem", "Ändring"],
        row=lambda c: [c.seq, c.at, c.actor, c.text],
        empty="(inga ändringar)",
        more="Fler ändringar",
    )


# -- finsam parties -------------------------------------------------------------------------


@click.group("parties", help="Förbundets parter (medlemmar).")
def parties_group() -> None:
    pass


@parties_group.command("list", help="Lista parterna.")
@json_option
@pass_app()
def parties_list(app: App, as_json: bool) -> None:
    views = parties.parties(app, app.settings.forbund)
    emit(
        as_json,
        [asdict(v) for v in views],
        lambda: print_table(
            ["Part", "Typ"], [[v.name, v.kind_label] for v in views], empty="(inga parter)"
        ),
    )


@parties_group.command("add", help="Lägg till en part.")
@click.option(
    "--kind", required=True, help="forsakringskassan, arbetsformedlingen, region eller kommun."
)
@click.option("--name", required=True, help="Partens namn, t.ex. 'Norbergs kommun'.")
@ACTOR
@json_option
@pass_app()
def parties_add(app: App, kind: str, name: str, actor: str, as_json: bool) -> None:
    view = parties.create_party(
        app, actor_email=actor, kind=kind, name=name, forbund=app.settings.forbund
    )
    emit(
        as_json,
        asdict(view),
        lambda: click.echo(f"Parten {view.name} ({view.kind_label}) är tillagd."),
    )


@parties_group.command("rename", help="Byt namn på en part.")
@click.argument("name")
@click.option("--to", "new_name", required=True, help="Det nya namnet.")
@ACTOR
@json_option
@pass_app()
def parties_rename(app: App, name: str, new_name: str, actor: str, as_json: bool) -> None:
    view = parties.rename_party(
        app, actor_email=actor, name=name, new_name=new_name, forbund=app.settings.forbund
    )
    emit(as_json, asdict(view), lambda: click.echo(f"Parten heter nu {view.name}."))


# -- finsam organs --------------------------------------------------------------------------

ORGAN = click.argument("organ", metavar="ORGAN")


@click.group("organs", help="Organ (styrelse, beredningsgrupp, LSG ...) och deras ledamöter.")
def organs_group() -> None:
    pass


@organs_group.command("list", help="Lista förbundets organ.")
@json_option
@pass_app()
def organs_list(app: App, as_json: bool) -> None:
    views = organs.organs(app, app.settings.forbund)
    emit(
        as_json,
        [asdict(v) for v in views],
        lambda: print_table(
            ["Organ", "Typ", "Ledamöter", "Varningar"],
            [[v.name, v.kind_label, len(v.members), len(v.warnings)] for v in views],
            empty="(inga organ; skapa med 'finsam organs create')",
        ),
    )


def _emit_organ(as_json: bool, view: OrganView, done: str | None = None) -> None:
    def human() -> None:
        if done:
            click.echo(done)
            click.echo("")
        _print_organ(view)
        click.echo("")
        _print_warnings(view.warnings)

    emit(as_json, asdict(view), human)


@organs_group.command("show", help="Visa ett organ: ledamöter, uppdrag, mandat och varningar.")
@ORGAN
@json_option
@pass_app()
def organs_show(app: App, organ: str, as_json: bool) -> None:
    _emit_organ(as_json, organs.get_organ(app, organ=organ, forbund=app.settings.forbund))


@organs_group.command("create", help="Skapa ett organ.")
@click.option(
    "--kind",
    required=True,
    help="styrelse, presidium, beredningsgrupp, llg, lsg, utvecklingsgrupp eller styrgrupp.",
)
@click.option("--name", help="Namn; annars typens (t.ex. 'Styrelsen').")
@ACTOR
@json_option
@pass_app()
def organs_create(app: App, kind: str, name: str | None, actor: str, as_json: bool) -> None:
    view = organs.create_organ(
        app, actor_email=actor, kind=kind, name=name, forbund=app.settings.forbund
    )
    _emit_organ(as_json, view, f"Organet {view.name} är skapat.")


@organs_group.command("rename", help="Byt namn på ett organ.")
@ORGAN
@click.option("--to", "new_name", required=True, help="Det nya namnet.")
@ACTOR
@json_option
@pass_app()
def organs_rename(app: App, organ: str, new_name: str, actor: str, as_json: bool) -> None:
    view = organs.rename_organ(
        app, actor_email=actor, organ=organ, name=new_name, forbund=app.settings.forbund
    )
    _emit_organ(as_json, view, f"Organet heter nu {view.name}.")


def _day(value: str | None, label: str) -> date | None:
    return parse_date(value, label) if value else None


@organs_group.command(
    "member", help="Ge en person ett uppdrag i ett organ (lägger till eller ändrar hela uppdraget)."
)
@ORGAN
@click.argument("email")
@click.option(
    "--role",
    required=True,
    help="ordforande, vice_ordforande, ledamot, ersattare, sekreterare eller adjungerad.",
)
@click.option("--order", type=int, help="Ersättarens ordning (1, 2 ...); annars sist.")
@click.option("--party", help="Parten ledamoten företräder; annars personens egen.")
@click.option("--elected", type=int, metavar="ÅR", help="Valår: mandat 1 april året efter, 4 år.")
@click.option("--from", "mandate_from", metavar="ÅÅÅÅ-MM-DD", help="Mandatets början.")
@click.option("--to", "mandate_to", metavar="ÅÅÅÅ-MM-DD", help="Mandatets slut.")
@ACTOR
@json_option
@pass_app()
def organs_member(
    app: App,
    organ: str,
    email: str,
    role: str,
    order: int | None,
    party: str | None,
    elected: int | None,
    mandate_from: str | None,
    mandate_to: str | None,
    actor: str,
    as_json: bool,
) -> None:
    view = organs.set_member(
        app,
        actor_email=actor,
        organ=organ,
        email=email,
        role=role,
        order=order,
        party=party,
        elected=elected,
        mandate_from=_day(mandate_from, "--from"),
        mandate_to=_day(mandate_to, "--to"),
        forbund=app.settings.forbund,
    )
    held = next(m for m in view.members if m.email == email.strip().lower())
    _emit_organ(as_json, view, f"{held.name} har uppdraget {held.role_label} i {view.name}.")


@organs_group.command("remove", help="Ta bort en persons uppdrag i ett organ.")
@ORGAN
@click.argument("email")
@ACTOR
@json_option
@pass_app()
def organs_remove(app: App, organ: str, email: str, actor: str, as_json: bool) -> None:
    view = organs.remove_member(
        app, actor_email=actor, organ=organ, email=email, forbund=app.settings.forbund
    )
    _emit_organ(as_json, view, f"{email.lower()} har inte längre något uppdrag i {view.name}.")


def register(group: click.Group) -> None:
    group.add_command(forbund_group)
    group.add_command(parties_group)
    group.add_command(organs_group)
