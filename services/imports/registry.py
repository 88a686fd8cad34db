"""The resources that can be imported, by the name used in ``/imports/{resource}``."""

from services.errors import NotFound
from services.imports.contacts import ContactImporter
from services.imports.interactions import InteractionImporter
from services.imports.members import MemberImporter
from services.imports.memberships import MembershipImporter
from services.imports.payments import PaymentImporter
from services.imports.registrations import RegistrationImporter
from services.imports.runner import Importer

IMPORTERS: dict[str, Importer] = {
    "members": MemberImporter(),
    "contacts": ContactImporter(),
    "memberships": MembershipImporter(),
    "payments": PaymentImporter(),
    "interactions": InteractionImporter(),
    "registrations": RegistrationImporter(),
}


def importer_for(resource: str) -> Importer:
    importer = IMPORTERS.get(resource)
    if importer is None:
        raise NotFound("importable resource", resource)
    return importer
