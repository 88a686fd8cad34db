"""The vocabulary of domains of activity."""

import uuid
from typing import Any

from flask.views import MethodView

from api.blueprint import Blueprint
from api.etag import if_match_versions
from api.extensions import db
from api.pagination import paginate
from api.responses import created, with_etag
from models import Domain
from schemas.domains import DomainCreate, DomainOut, DomainPage, DomainPatch, DomainQuery
from services.domains import (
    DOMAIN_SORT_KEYS,
    create_domain,
    get_domain,
    list_domains,
    update_domain,
)

blp = Blueprint(
    "domains",
    __name__,
    url_prefix="/api/v1/domains",
    description="Domains of activity of members: a vocabulary admins extend.",
)


@blp.route("")
class Domains(MethodView):
    @blp.auth("members:read")
    @blp.arguments(DomainQuery(), location="query", as_kwargs=True)
    @blp.page_response(DomainPage())
    def get(self, **query: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """List domains of activity"""
        return paginate(db.session, list_domains, query, DOMAIN_SORT_KEYS, Domain.id)

    @blp.auth("vocabulary:write")
    @blp.arguments(DomainCreate())
    @blp.created_response(DomainOut())
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any]) -> tuple[Domain, int, dict[str, str]]:
        """Add a domain of activity"""
        domain = create_domain(db.session, **body)
        return created(domain, "domains.DomainById", domain_id=domain.id)


@blp.route("/<uuid:domain_id>")
class DomainById(MethodView):
    @blp.auth("members:read")
    @blp.record_response(DomainOut())
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, domain_id: uuid.UUID) -> tuple[Domain, dict[str, str]]:
        """Get a domain of activity"""
        return with_etag(get_domain(db.session, domain_id))

    @blp.auth("vocabulary:write")
    @blp.if_match
    @blp.arguments(DomainPatch())
    @blp.record_response(DomainOut())
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, body: dict[str, Any], domain_id: uuid.UUID) -> tuple[Domain, dict[str, str]]:
        """Relabel or (de)activate a domain

        A deactivated domain stays on the members that have it but cannot be given any more.
        """
        domain = update_domain(
            db.session, domain_id=domain_id, changes=body, if_match=if_match_versions()
        )
        return with_etag(domain)
