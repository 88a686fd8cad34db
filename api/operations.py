"""The operations' ids, request examples and links, written once for the whole spec.

- ``OPERATION_IDS``: a stable, readable ``operationId`` per operation (generated clients name
  their functions after it), keyed by endpoint and method. A new operation needs an entry; a
  test fails until it has one.
- ``REQUEST_EXAMPLES``: example bodies per operation that takes one, as documentation tools
  show them; a test sends each to the API and expects it accepted.
- ``LINKS``: how the answer of one operation feeds the next (create, then read), so that
  clients and stateful test tools can follow them.

``api/openapi.py`` puts them in the spec.
"""

from typing import Any

OPERATION_IDS: dict[tuple[str, str], str] = {
    ("health.Liveness", "get"): "getLiveness",
    ("health.Readiness", "get"): "getReadiness",
    ("auth.Token", "post"): "issueToken",
    ("auth.Refresh", "post"): "refreshToken",
    ("auth.Logout", "post"): "logout",
    ("auth.Me", "get"): "getCurrentUser",
    ("users.Users", "get"): "listUsers",
    ("users.Users", "post"): "createUser",
    ("users.UserById", "get"): "getUser",
    ("users.UserById", "patch"): "updateUser",
    ("users.UserById", "delete"): "deleteUser",
    ("users.UserDeactivation", "post"): "deactivateUser",
    ("users.UserReactivation", "post"): "reactivateUser",
    ("api_clients.ApiClients", "get"): "listApiClients",
    ("api_clients.ApiClients", "post"): "createApiClient",
    ("api_clients.ApiClientById", "get"): "getApiClient",
    ("api_clients.ApiClientById", "patch"): "updateApiClient",
    ("api_clients.ApiClientById", "delete"): "deleteApiClient",
    ("api_clients.ApiClientSecretRotation", "post"): "rotateApiClientSecret",
    ("api_clients.ApiClientHistory", "get"): "getApiClientHistory",
    ("members.Members", "get"): "listMembers",
    ("members.MemberBatchWrite", "post"): "batchWriteMembers",
    ("contacts.ContactBatchWrite", "post"): "batchWriteContacts",
    ("members.Members", "post"): "createMember",
    ("members.MemberById", "get"): "getMember",
    ("members.MemberById", "patch"): "updateMember",
    ("members.MemberById", "delete"): "deleteMember",
    ("members.MemberArchiveAction", "post"): "archiveMember",
    ("members.MemberRestoreAction", "post"): "restoreMember",
    ("members.MemberByExternalId", "put"): "upsertMemberByExternalId",
    ("imports.MembersImport", "post"): "importMembers",
    ("imports.MembersImportTemplate", "get"): "getMembersImportTemplate",
    ("imports.ContactsImport", "post"): "importContacts",
    ("imports.ContactsImportTemplate", "get"): "getContactsImportTemplate",
    ("imports.MembershipsImport", "post"): "importMemberships",
    ("imports.MembershipsImportTemplate", "get"): "getMembershipsImportTemplate",
    ("imports.PaymentsImport", "post"): "importPayments",
    ("imports.PaymentsImportTemplate", "get"): "getPaymentsImportTemplate",
    ("imports.InteractionsImport", "post"): "importInteractions",
    ("imports.InteractionsImportTemplate", "get"): "getInteractionsImportTemplate",
    ("imports.RegistrationsImport", "post"): "importRegistrations",
    ("imports.RegistrationsImportTemplate", "get"): "getRegistrationsImportTemplate",
    ("imports.ImportById", "get"): "getImport",
    ("imports.ImportReportCsv", "get"): "getImportReport",
    ("domains.Domains", "get"): "listDomains",
    ("domains.Domains", "post"): "createDomain",
    ("domains.DomainById", "get"): "getDomain",
    ("domains.DomainById", "patch"): "updateDomain",
    ("contacts.Contacts", "get"): "listContacts",
    ("contacts.Contacts", "post"): "createContact",
    ("contacts.ContactByExternalId", "put"): "upsertContactByExternalId",
    ("contacts.ContactById", "get"): "getContact",
    ("contacts.ContactById", "patch"): "updateContact",
    ("contacts.ContactById", "delete"): "deleteContact",
    ("contacts.ContactArchiving", "post"): "archiveContact",
    ("contacts.ContactRestoring", "post"): "restoreContact",
    ("contacts.Affiliations", "get"): "listContactAffiliations",
    ("contacts.Affiliations", "post"): "createAffiliation",
    ("contacts.AffiliationById", "get"): "getAffiliation",
    ("contacts.AffiliationById", "patch"): "updateAffiliation",
    ("contacts.AffiliationById", "delete"): "deleteAffiliation",
    ("contacts.MemberContacts", "get"): "listMemberContacts",
    ("changes.Changes", "get"): "listChanges",
    ("changes.MemberHistory", "get"): "getMemberHistory",
    ("changes.ContactHistory", "get"): "getContactHistory",
    ("webhooks.Subscriptions", "get"): "listWebhookSubscriptions",
    ("webhooks.Subscriptions", "post"): "createWebhookSubscription",
    ("webhooks.SubscriptionById", "get"): "getWebhookSubscription",
    ("webhooks.SubscriptionById", "patch"): "updateWebhookSubscription",
    ("webhooks.SubscriptionById", "delete"): "deleteWebhookSubscription",
    ("webhooks.Deliveries", "get"): "listWebhookDeliveries",
    ("webhooks.Redeliver", "post"): "redeliverWebhookDelivery",
    ("membership_plans.Plans", "get"): "listMembershipPlans",
    ("membership_plans.Plans", "post"): "createMembershipPlan",
    ("membership_plans.PlanById", "get"): "getMembershipPlan",
    ("membership_plans.PlanById", "patch"): "updateMembershipPlan",
    ("membership_plans.Schedules", "get"): "listFeeSchedules",
    ("membership_plans.ScheduleByYear", "get"): "getFeeSchedule",
    ("membership_plans.ScheduleByYear", "put"): "putFeeSchedule",
    ("membership_plans.ScheduleCopyForward", "post"): "copyFeeScheduleForward",
    ("membership_plans.PlanQuote", "get"): "quoteMembershipFee",
    ("memberships.Memberships", "get"): "listMemberships",
    ("memberships.Memberships", "post"): "createMembership",
    ("memberships.MembershipById", "get"): "getMembership",
    ("memberships.MembershipById", "patch"): "updateMembership",
    ("memberships.MembershipCancelling", "post"): "cancelMembership",
    ("memberships.MembershipRenewal", "post"): "renewMembership",
    ("memberships.MemberMemberships", "get"): "listMemberMemberships",
    ("memberships.Payments", "get"): "listMembershipPayments",
    ("memberships.Payments", "post"): "createMembershipPayment",
    ("memberships.PaymentById", "get"): "getMembershipPayment",
    ("memberships.Campaigns", "post"): "createMembershipCampaign",
    ("memberships.CampaignById", "get"): "getMembershipCampaign",
    ("memberships.MembershipHistory", "get"): "getMembershipHistory",
    ("memberships.MembershipByExternalId", "put"): "upsertMembershipByExternalId",
    ("membership_plans.PlanHistory", "get"): "getMembershipPlanHistory",
    ("interactions.InteractionHistory", "get"): "getInteractionHistory",
    ("interactions.InteractionByExternalId", "put"): "upsertInteractionByExternalId",
    ("invoices.Invoices", "get"): "listInvoices",
    ("invoices.InvoiceById", "get"): "getInvoice",
    ("invoices.InvoiceCrediting", "post"): "creditInvoice",
    ("invoices.MembershipInvoices", "get"): "listMembershipInvoices",
    ("invoices.MembershipInvoices", "post"): "issueMembershipInvoice",
    ("interactions.Interactions", "get"): "listInteractions",
    ("interactions.Interactions", "post"): "createInteraction",
    ("interactions.InteractionById", "get"): "getInteraction",
    ("interactions.InteractionById", "patch"): "updateInteraction",
    ("interactions.InteractionById", "delete"): "deleteInteraction",
    ("interactions.InteractionArchiving", "post"): "archiveInteraction",
    ("interactions.InteractionRestoring", "post"): "restoreInteraction",
    ("interactions.MemberTimeline", "get"): "getMemberTimeline",
    ("interactions.ContactTimeline", "get"): "getContactTimeline",
    ("events.Events", "get"): "listEvents",
    ("events.Events", "post"): "createEvent",
    ("events.EventById", "get"): "getEvent",
    ("events.EventById", "patch"): "updateEvent",
    ("events.EventById", "delete"): "deleteEvent",
    ("events.EventByExternalId", "put"): "upsertEventByExternalId",
    ("events.EventPublishing", "post"): "publishEvent",
    ("events.EventCompletion", "post"): "completeEvent",
    ("events.EventCancellation", "post"): "cancelEvent",
    ("events.EventArchiving", "post"): "archiveEvent",
    ("events.EventRestoring", "post"): "restoreEvent",
    ("events.EventHistory", "get"): "getEventHistory",
    ("events.EventRegistrations", "get"): "listEventRegistrations",
    ("events.EventRegistrations", "post"): "registerForEvent",
    ("events.EventAttendance", "get"): "getEventAttendance",
    ("events.EventStats", "get"): "getEventStats",
    ("events.Registrations", "get"): "listRegistrations",
    ("events.RegistrationById", "get"): "getRegistration",
    ("events.RegistrationById", "patch"): "updateRegistration",
    ("events.RegistrationCancellation", "post"): "cancelRegistration",
    ("events.RegistrationCheckIn", "post"): "checkInRegistration",
    ("events.RegistrationHistory", "get"): "getRegistrationHistory",
    ("projects.Projects", "get"): "listProjects",
    ("projects.Projects", "post"): "createProject",
    ("projects.ProjectById", "get"): "getProject",
    ("projects.ProjectById", "patch"): "updateProject",
    ("projects.ProjectById", "delete"): "deleteProject",
    ("projects.ProjectByExternalId", "put"): "upsertProjectByExternalId",
    ("projects.ProjectTransitions", "post"): "transitionProject",
    ("projects.ProjectHistory", "get"): "getProjectHistory",
    ("projects.ProjectEligibility", "get"): "checkProjectEligibility",
    ("projects.ProjectTimeline", "get"): "getProjectTimeline",
    ("projects.ProjectInteractionLink", "put"): "linkProjectInteraction",
    ("projects.ProjectInteractionLink", "delete"): "unlinkProjectInteraction",
    ("projects.Partners", "get"): "listProjectPartners",
    ("projects.Partners", "post"): "addProjectPartner",
    ("projects.PartnerById", "get"): "getProjectPartner",
    ("projects.PartnerById", "patch"): "updateProjectPartner",
    ("projects.PartnerById", "delete"): "removeProjectPartner",
    ("projects.Submissions", "get"): "listProjectSubmissions",
    ("projects.Submissions", "post"): "createProjectSubmission",
    ("projects.SubmissionById", "get"): "getProjectSubmission",
    ("projects.SubmissionById", "patch"): "updateProjectSubmission",
    ("projects.SubmissionById", "delete"): "deleteProjectSubmission",
    ("projects.SubmissionLabel", "post"): "labelProjectSubmission",
}


def _link(operation_id: str, description: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation_id, "parameters": parameters, "description": description}


_READ_MEMBER = _link("getMember", "Read the member.", member_id="$response.body#/id")
_READ_CONTACT = _link("getContact", "Read the contact.", contact_id="$response.body#/id")
_READ_USER = _link("getUser", "Read the user.", user_id="$response.body#/id")
_READ_DOMAIN = _link("getDomain", "Read the domain.", domain_id="$response.body#/id")

# operationId -> status -> link name -> link.
LINKS: dict[str, dict[str, dict[str, dict[str, Any]]]] = {
    "createMember": {
        "201": {
            "GetMember": _READ_MEMBER,
            "UpdateMember": _link(
                "updateMember", "Change the member.", member_id="$response.body#/id"
            ),
            "ListMemberContacts": _link(
                "listMemberContacts", "List its contacts.", member_id="$response.body#/id"
            ),
            "ArchiveMember": _link(
                "archiveMember", "Archive the member.", member_id="$response.body#/id"
            ),
            "DeleteMember": _link(
                "deleteMember", "Delete the member.", member_id="$response.body#/id"
            ),
        }
    },
    "archiveMember": {
        "200": {
            "RestoreMember": _link(
                "restoreMember", "Restore the member.", member_id="$response.body#/id"
            )
        }
    },
    "archiveContact": {
        "200": {
            "RestoreContact": _link(
                "restoreContact", "Restore the contact.", contact_id="$response.body#/id"
            )
        }
    },
    "upsertMembershipByExternalId": {
        "import": {
            "member_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "plan": "full",
            "start_date": "2026-01-01",
            "approved_on": "2026-01-15",
            "notes": "Imported from the former CRM.",
        }
    },
    "upsertInteractionByExternalId": {
        "import": {
            "kind": "service",
            "type": "funding_advice",
            "subject": "Dossier i-Nov",
            "occurred_at": "2026-03-02T10:00:00+01:00",
            "members": [{"member_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "role": "requester"}],
            "source": "legacy-crm",
        }
    },
    "upsertMemberByExternalId": {
        "200": {"GetMember": _READ_MEMBER},
        "201": {"GetMember": _READ_MEMBER},
    },
    "createContact": {
        "201": {
            "GetContact": _READ_CONTACT,
            "UpdateContact": _link(
                "updateContact", "Change the contact.", contact_id="$response.body#/id"
            ),
            "ListContactAffiliations": _link(
                "listContactAffiliations",
                "List its affiliations.",
                contact_id="$response.body#/id",
            ),
            "CreateAffiliation": _link(
                "createAffiliation", "Affiliate it with a member.", contact_id="$response.body#/id"
            ),
            "ArchiveContact": _link(
                "archiveContact", "Archive the contact.", contact_id="$response.body#/id"
            ),
            "DeleteContact": _link(
                "deleteContact", "Erase the contact.", contact_id="$response.body#/id"
            ),
        }
    },
    "upsertContactByExternalId": {
        "200": {"GetContact": _READ_CONTACT},
        "201": {"GetContact": _READ_CONTACT},
    },
    "createAffiliation": {
        "201": {
            "GetAffiliation": _link(
                "getAffiliation",
                "Read the affiliation.",
                contact_id="$request.path.contact_id",
                affiliation_id="$response.body#/id",
            ),
            "UpdateAffiliation": _link(
                "updateAffiliation",
                "Change the affiliation.",
                contact_id="$request.path.contact_id",
                affiliation_id="$response.body#/id",
            ),
            "DeleteAffiliation": _link(
                "deleteAffiliation",
                "Delete the affiliation.",
                contact_id="$request.path.contact_id",
                affiliation_id="$response.body#/id",
            ),
            "GetMember": _link(
                "getMember", "Read the affiliated member.", member_id="$response.body#/member/id"
            ),
        }
    },
    "createUser": {
        "201": {
            "GetUser": _READ_USER,
            "DeactivateUser": _link(
                "deactivateUser", "Deactivate the user.", user_id="$response.body#/id"
            ),
        }
    },
    "createDomain": {"201": {"GetDomain": _READ_DOMAIN}},
}


# The member ``createAffiliation``'s example names (tests create it before sending the example).
EXAMPLE_MEMBER_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"

# operationId -> example name -> example body.
REQUEST_EXAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "issueToken": {
        "login": {"email": "admin@example.org", "password": "correct horse battery staple"},
        "read-only": {
            "email": "admin@example.org",
            "password": "correct horse battery staple",
            "scopes": ["members:read", "contacts:read"],
        },
    },
    "createUser": {
        "staff": {
            "email": "claire.martin@example.org",
            "password": "a long enough passphrase",
            "role": "staff",
            "full_name": "Claire Martin",
        }
    },
    "updateUser": {"promote": {"full_name": "Claire Martin-Dubois", "role": "admin"}},
    "createApiClient": {
        "regional-agency": {
            "name": "Regional agency CRM",
            "description": "Nightly sync of members and contacts.",
            "scopes": ["members:read", "members:write", "contacts:read"],
            "expires_at": "2030-01-01T00:00:00+00:00",
        }
    },
    "batchWriteMembers": {
        "upsert-and-create": {
            "items": [
                {"name": "Cardio Santé", "category": "sme", "external_id": "crm-0042"},
                {"name": "Institut Imagine", "category": "academic_lab", "city": "Paris"},
            ],
            "atomic": False,
        }
    },
    "batchWriteContacts": {
        "upsert": {
            "items": [
                {"first_name": "Claire", "last_name": "Martin", "external_id": "crm-c-7"},
            ]
        }
    },
    "updateApiClient": {"deactivate": {"is_active": False}},
    "rotateApiClientSecret": {"one-hour-overlap": {"overlap_seconds": 3600}},
    "createMember": {
        "company": {
            "name": "Société Générale",
            "legal_name": "SOCIETE GENERALE",
            "category": "large_company",
            "siren": "552120222",
            "siret": "55212022200013",
            "vat_number": "FR27552120222",
            "headcount_band": "53",
            "year_founded": 1864,
            "website": "https://www.example.fr",
            "email": "contact@example.fr",
            "phone": "+33142685300",
            "street": "29 boulevard Haussmann",
            "postal_code": "75009",
            "city": "Paris",
            "domains": ["digital_health"],
        },
        "laboratory": {"name": "Institut Imagine", "category": "academic_lab", "city": "Paris"},
    },
    "updateMember": {"move": {"street": "2 rue Gaston Crémieux", "postal_code": "91000"}},
    "archiveMember": {"left": {"reason": "Left the cluster at the end of its membership."}},
    "restoreMember": {"rejoined": {"reason": "Rejoined the cluster."}},
    "upsertMemberByExternalId": {
        "import": {
            "name": "Genopole",
            "category": "public_body",
            "postal_code": "91000",
            "city": "Évry-Courcouronnes",
            "domains": ["biotech"],
        }
    },
    "createDomain": {"new": {"code": "genomics", "label": "Genomics"}},
    "updateDomain": {"relabel": {"label": "Genomics and sequencing"}},
    "createContact": {
        "person": {
            "first_name": "Claire",
            "last_name": "Martin",
            "email": "claire.martin@example.fr",
            "phones": [{"number": "+33142685300", "kind": "work"}],
            "preferred_language": "fr",
        }
    },
    "upsertContactByExternalId": {
        "import": {"first_name": "Louis", "last_name": "Pasteur", "email": "l.pasteur@example.fr"}
    },
    "updateContact": {"notes": {"notes": "Prefers e-mail to phone calls."}},
    "archiveContact": {"left": {"reason": "Left the company."}},
    "restoreContact": {"back": {"reason": "Back in the company."}},
    "createAffiliation": {
        "primary": {
            "member_id": EXAMPLE_MEMBER_ID,
            "job_title": "Chief scientific officer",
            "roles": ["decision_maker", "technical"],
            "start_date": "2024-01-15",
            "is_primary": True,
        }
    },
    "updateAffiliation": {"board": {"roles": ["board"], "end_date": "2030-12-31"}},
    "createEvent": {
        "conference": {
            "title": "Journée de l'innovation en santé",
            "type": "conference",
            "status": "published",
            "starts_at": "2030-10-24T09:00:00+02:00",
            "ends_at": "2030-10-24T18:00:00+02:00",
            "venue": "Genopole, Évry-Courcouronnes",
            "capacity": 120,
            "members_only": False,
            "member_price_cents": 0,
            "non_member_price_cents": 15000,
            "co_funders": ["Région Île-de-France", "Bpifrance"],
            "domains": ["digital_health"],
        }
    },
    "updateEvent": {"bigger_room": {"capacity": 150, "venue": "Amphithéâtre A"}},
    "upsertEventByExternalId": {
        "import": {
            "title": "Atelier dispositifs médicaux",
            "type": "workshop",
            "starts_at": "2030-11-05T14:00:00+01:00",
            "ends_at": "2030-11-05T17:00:00+01:00",
        }
    },
    "cancelEvent": {"weather": {"reason": "Venue unavailable."}},
    "archiveEvent": {"old": {"reason": "Past season."}},
    "registerForEvent": {
        "guest": {
            "guest_name": "Claire Martin",
            "guest_email": "claire.martin@example.fr",
            "guest_organisation": "Example Biotech",
            "guest_category": "startup",
        }
    },
    "updateRegistration": {"notes": {"notes": "Vegetarian lunch."}},
    "createProject": {
        "project": {
            "acronym": "CARDIA",
            "title": "Détection précoce de l'insuffisance cardiaque par IA",
            "summary": "Un algorithme d'analyse d'ECG validé en centre hospitalier.",
            "domains": ["digital_health"],
            "trl_start": 3,
            "trl_target": 6,
            "duration_months": 36,
            "total_budget_cents": 250000000,
            "confidential": True,
        }
    },
    "updateProject": {"budget": {"total_budget_cents": 280000000, "duration_months": 42}},
    "upsertProjectByExternalId": {"import": {"acronym": "NEURO", "title": "Neuro-imagerie"}},
    "transitionProject": {"start": {"to": "consortium_building", "note": "Kick-off meeting."}},
    "addProjectPartner": {
        "outside": {
            "organisation_name": "Société Générale",
            "siren": "552120222",
            "category": "large_company",
            "role": "partner",
            "budget_cents": 50000000,
            "aid_requested_cents": 20000000,
            "aid_form": "grant",
        }
    },
    "updateProjectPartner": {"aid": {"aid_obtained_cents": 18000000}},
    "createProjectSubmission": {
        "pspc": {
            "programme": "pspc_regions",
            "call_name": "PSPC-Régions Île-de-France, vague 5",
            "deadline": "2027-03-15",
            "requested_cents": 120000000,
        }
    },
    "updateProjectSubmission": {"funded": {"outcome": "funded", "obtained_cents": 100000000}},
    "labelProjectSubmission": {"granted": {"decision": "granted", "note": "Strong consortium."}},
}
