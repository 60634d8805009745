"""`finsam serve`: the web application on uvicorn, with the demo logins printed."""

from __future__ import annotations

import click

from workflow.app import App
from workflow.cli.context import pass_app
from workflow.vocabulary import role_label


@click.command("serve", help="Starta webbtjänsten (sidor och API) med uvicorn.")
@click.option("--host", help="Adress att lyssna på (annars [web] host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (annars [web] port, 8000).")
@pass_app()
def serve(app: App, host: str | None, port: int | None) -> None:
    import uvicorn

    from workflow.services.demo.logins import DEMO_PASSWORD, demo_logins_present
    from workflow.web.app import create_web_app

    web = app.settings.web
    host = host or web.host
    port = web.port if port is None else port
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Webbtjänsten startar på http://{shown}:{port}/ (avsluta med Ctrl-C)")
    logins = demo_logins_present(app)
    if logins:
        click.echo(f"Demoinloggningar, alla med lösenordet {DEMO_PASSWORD}:")
        for login in logins:
            click.echo(f"  {login.forbund:5} {role_label(login.role):24} {login.email}")
    uvicorn.run(
        create_web_app(app),
        host=host,
        port=port,
        proxy_headers=bool(web.trusted_proxies),
        forwarded_allow_ips=",".join(web.trusted_proxies) or None,
        log_level="info",
        server_header=False,
    )


def register(group: click.Group) -> None:
    group.add_command(serve)
