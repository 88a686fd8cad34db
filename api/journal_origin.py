"""Tell the change journal who is writing: the authenticated user or API client and the
request id."""

from flask import g, has_request_context

from services.journal import Origin, set_origin_provider


def _request_origin() -> Origin | None:
    if not has_request_context():
        return None
    app_globals = g._get_current_object()  # one context lookup, not one per use
    principal = app_globals.get("principal")
    return Origin(
        source="api",
        actor_user_id=principal.user_id if principal is not None else None,
        api_client_id=principal.api_client_id if principal is not None else None,
        request_id=app_globals.get("request_id"),
    )


def install_origin_provider() -> None:
    set_origin_provider(_request_origin)
