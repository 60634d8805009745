"""Who may come in: local passwords, web sessions, login and its throttle, access events.

    from workflow.services.access.login import login, logout
    from workflow.services.access.sessions import Principal, create_session, lookup_session

The web (workflow/web) and the CLI (`finsam people password`) call these; an OpenID Connect
login ends in `sessions.create_session` and `events.record(..., trigger=events.LOGGA_IN)`.
(The package re-exports nothing: `access.login` stays the module, not its function.)
"""
