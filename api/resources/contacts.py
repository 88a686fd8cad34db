"""Contacts (people), their affiliations with members, and each member's contacts.

Contacts are personal data: no view logs a body, and the access log records only the path,
which holds ids and never names or e-mails.
"""

import uuid
from functools import partial
from typing import Any

from flask.views import MethodView

from api.batch import write_batch
from api.blueprint import Blueprint
from api.etag import if_match_versions
from api.exports import export_response, requested_export
from api.extensions import db
from api.pagination import paginate
from api.responses import Headers, created, with_etag
from models import Affiliation, Contact
from schemas.affiliations import (
    AffiliationCreate,
    AffiliationOut,
    AffiliationPage,
    AffiliationPatch,
    AffiliationQuery,
)
from schemas.batch import BatchOut, batch_of
from schemas.common import RestoreRequest
from schemas.contacts import (
    ContactArchive,
    ContactCreate,
    ContactOut,
    ContactPage,
    ContactPatch,
    ContactQuery,
    ContactUpsert,
    MemberContactPage,
    MemberContactQuery,
)
from services.affiliations import (
    AFFILIATION_SORT_KEYS,
    create_affiliation,
    delete_affiliation,
    get_affiliation,
    list_affiliations,
    update_affiliation,
)
from services.batch_writes import write_contact_item
from services.contact_views import contact_rows_of, list_contact_rows
from services.contacts import (
    CONTACT_SORT_KEYS,
    archive_contact,
    create_contact,
    erase_contact,
    get_contact,
    list_member_contacts,
    restore_contact,
    update_contact,
    upsert_contact,
)
from services.exports.contacts import contact_export

blp = Blueprint(
    "contacts",
    __name__,
    url_prefix="/api/v1",
    description="People the cluster deals with, and their affiliations with members.",
)


def _created(contact: Contact) -> tuple[Contact, int, Headers]:
    return created(contact, "contacts.ContactById", contact_id=contact.id)


@blp.route("/contacts")
class Contacts(MethodView):
    @blp.auth("contacts:read")
    @blp.arguments(ContactQuery(), location="query", as_kwargs=True)
    @blp.page_response(ContactPage(), own_export=True)
    def get(self, **query: Any) -> Any:
        """List contacts

        `q` searches first name, last name and e-mail, ignoring case and accents (every word
        must appear). `member_id` and `role` select contacts by their affiliations (both given:
        the same affiliation). Archived contacts are left out unless `archived=true` or
        `include_archived=true`. Each contact embeds its affiliations. With `format=csv` (or
        `Accept: text/csv`) or `format=ndjson` every matching contact is streamed as a file
        (one line per contact, with its primary affiliation), and the export is logged.
        """
        export = requested_export(query)
        if export is not None:
            return export_response(
                export, "contacts", query, contact_export(db.session, query, export)
            )
        return paginate(
            db.session,
            list_contact_rows,
            query,
            CONTACT_SORT_KEYS,
            Contact.id,
            rows_to_items=contact_rows_of,
        )

    @blp.auth("contacts:write")
    @blp.arguments(ContactCreate())
    @blp.created_response(ContactOut())
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any]) -> tuple[Contact, int, Headers]:
        """Create a contact

        The e-mail is unique among active contacts (ignoring case) and `external_id` among all;
        a duplicate is a 409 whose `existing` gives only the other contact's id and URL.
        """
        return _created(create_contact(db.session, **body))


ContactBatch = batch_of(ContactCreate, "ContactBatch")


@blp.route("/contacts/batch")
class ContactBatchWrite(MethodView):
    @blp.auth("contacts:write")
    @blp.arguments(ContactBatch())
    @blp.response(207, BatchOut())
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create or replace up to 100 contacts

        Each item is a contact as `POST /contacts` takes it; one with an `external_id`
        replaces the contact that has it (fields left out take their defaults) or creates it;
        one without, but with an `email`, updates the active contact that has that address
        (only the fields sent change) or creates it. The answer is 207 with one result per
        item, in the order sent: `status` 201 or 200 and the contact's `id`, or the `problem`
        that refused the item. Items are independent unless `atomic` is `true`: then all are
        written or none.
        """
        return write_batch(body["items"], write_contact_item, atomic=body["atomic"])


@blp.route("/contacts/by-external-id/<path:external_id>")
class ContactByExternalId(MethodView):
    @blp.auth("contacts:write")
    @blp.if_match
    @blp.arguments(ContactUpsert())
    @blp.record_response(ContactOut())
    @blp.created_response(ContactOut(), alternative=True)
    @blp.alt_response(409, response="CONFLICT")
    def put(
        self, body: dict[str, Any], external_id: str
    ) -> tuple[Contact, int, Headers] | tuple[Contact, Headers]:
        """Create or replace a contact by its external id

        For importers: 201 when the contact is new, 200 when it replaced the one with this
        `external_id` (fields left out take their defaults). Affiliations are not touched.
        """
        contact, was_created = upsert_contact(
            db.session, external_id=external_id, values=body, if_match=if_match_versions()
        )
        return _created(contact) if was_created else with_etag(contact)


@blp.route("/contacts/<uuid:contact_id>")
class ContactById(MethodView):
    @blp.auth("contacts:read")
    @blp.record_response(ContactOut())
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, contact_id: uuid.UUID) -> tuple[Contact, Headers]:
        """Get a contact"""
        return with_etag(get_contact(db.session, contact_id))

    @blp.auth("contacts:write")
    @blp.if_match
    @blp.arguments(ContactPatch())
    @blp.record_response(ContactOut())
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, body: dict[str, Any], contact_id: uuid.UUID) -> tuple[Contact, Headers]:
        """Update a contact"""
        contact = update_contact(
            db.session, contact_id=contact_id, changes=body, if_match=if_match_versions()
        )
        return with_etag(contact)

    @blp.auth("contacts:write")
    @blp.if_match
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, contact_id: uuid.UUID) -> None:
        """Erase a contact (GDPR)

        Deletes the person and their affiliations for good: this is the right to erasure, so
        nothing of the contact is kept. To stop using a contact while keeping the record (the
        person left, the e-mail is reused), archive it instead.
        """
        erase_contact(db.session, contact_id=contact_id, if_match=if_match_versions())


@blp.route("/contacts/<uuid:contact_id>/archive")
class ContactArchiving(MethodView):
    @blp.auth("contacts:write")
    @blp.if_match
    @blp.arguments(ContactArchive())
    @blp.record_response(ContactOut())
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], contact_id: uuid.UUID) -> tuple[Contact, Headers]:
        """Archive a contact

        The contact is kept but left out of lists, and its e-mail may be given to another
        contact; 409 if it is already archived.
        """
        contact = archive_contact(
            db.session, contact_id=contact_id, reason=body["reason"], if_match=if_match_versions()
        )
        return with_etag(contact)


@blp.route("/contacts/<uuid:contact_id>/restore")
class ContactRestoring(MethodView):
    @blp.auth("contacts:write")
    @blp.if_match
    @blp.arguments(RestoreRequest(), required=False)
    @blp.record_response(ContactOut())
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], contact_id: uuid.UUID) -> tuple[Contact, Headers]:
        """Restore an archived contact

        Refused (409) when it is not archived, or when an active contact has taken its e-mail
        address meanwhile. An optional `reason` is kept as `restore_reason`.
        """
        contact = restore_contact(
            db.session,
            contact_id=contact_id,
            reason=body.get("reason"),
            if_match=if_match_versions(),
        )
        return with_etag(contact)


@blp.route("/contacts/<uuid:contact_id>/affiliations")
class Affiliations(MethodView):
    @blp.auth("contacts:read")
    @blp.arguments(AffiliationQuery(), location="query", as_kwargs=True)
    @blp.page_response(AffiliationPage())
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, contact_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], Headers]:
        """List a contact's affiliations"""
        lister = partial(list_affiliations, db.session, contact_id=contact_id)
        return paginate(db.session, lister, query, AFFILIATION_SORT_KEYS, Affiliation.id)

    @blp.auth("contacts:write")
    @blp.arguments(AffiliationCreate())
    @blp.created_response(AffiliationOut())
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], contact_id: uuid.UUID) -> tuple[Affiliation, int, Headers]:
        """Affiliate a contact with a member

        The member must exist and not be archived (422 on `member_id`); a contact has one
        affiliation per member (409). A new primary affiliation demotes the previous one.
        """
        affiliation = create_affiliation(db.session, contact_id=contact_id, **body)
        return created(
            affiliation,
            "contacts.AffiliationById",
            contact_id=contact_id,
            affiliation_id=affiliation.id,
        )


@blp.route("/contacts/<uuid:contact_id>/affiliations/<uuid:affiliation_id>")
class AffiliationById(MethodView):
    @blp.auth("contacts:read")
    @blp.record_response(AffiliationOut())
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, contact_id: uuid.UUID, affiliation_id: uuid.UUID) -> tuple[Affiliation, Headers]:
        """Get an affiliation"""
        return with_etag(
            get_affiliation(db.session, contact_id=contact_id, affiliation_id=affiliation_id)
        )

    @blp.auth("contacts:write")
    @blp.if_match
    @blp.arguments(AffiliationPatch())
    @blp.record_response(AffiliationOut())
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(
        self, body: dict[str, Any], contact_id: uuid.UUID, affiliation_id: uuid.UUID
    ) -> tuple[Affiliation, Headers]:
        """Update an affiliation

        `is_primary: true` demotes the contact's previous primary affiliation in the same
        transaction.
        """
        affiliation = update_affiliation(
            db.session,
            contact_id=contact_id,
            affiliation_id=affiliation_id,
            changes=body,
            if_match=if_match_versions(),
        )
        return with_etag(affiliation)

    @blp.auth("contacts:write")
    @blp.if_match
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, contact_id: uuid.UUID, affiliation_id: uuid.UUID) -> None:
        """Delete an affiliation

        For an affiliation recorded by mistake; when a contact leaves a member, set `end_date`.
        """
        delete_affiliation(
            db.session,
            contact_id=contact_id,
            affiliation_id=affiliation_id,
            if_match=if_match_versions(),
        )


@blp.route("/members/<uuid:member_id>/contacts")
class MemberContacts(MethodView):
    @blp.auth("contacts:read")
    @blp.arguments(MemberContactQuery(), location="query", as_kwargs=True)
    @blp.page_response(MemberContactPage())
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, member_id: uuid.UUID, **query: Any) -> tuple[dict[str, Any], Headers]:
        """List a member's contacts

        Each contact comes with its affiliation to this member. Same search and filters as the
        contact list.
        """
        lister = partial(list_member_contacts, db.session, member_id=member_id)
        return paginate(db.session, lister, query, CONTACT_SORT_KEYS, Contact.id)
