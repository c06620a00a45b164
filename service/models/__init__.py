"""The database tables of iati-ec (SQLModel), all registered on `SQLModel.metadata`."""

from sqlmodel import SQLModel

from service.models.activity import Activity, ActivityTransfer, ActivityVersion, TransferKind
from service.models.agreements import (
    Agreement,
    AgreementActivity,
    AgreementMetric,
    AgreementObjective,
    AgreementParty,
    AgreementStatus,
    PartyRole,
)
from service.models.budget import BudgetFigure, BudgetView, CurrentFigure
from service.models.changes import ActivityChange, ChangeCounter
from service.models.coordination import DuplicateDecision, DuplicateVerdict
from service.models.events import ReadEvent
from service.models.facets import (
    ActivityText,
    Document,
    Location,
    ParticipatingOrg,
    RecipientCountry,
    RecipientRegion,
    Sector,
)
from service.models.finance import Budget, Loan, PlannedDisbursement, Transaction
from service.models.job import Job, JobFile, JobKind, JobStatus
from service.models.links import ActivityLink, LinkKind
from service.models.mapping import MappingOverride
from service.models.push import Outcome, Push, PushActivity, PushMode, PushScope, PushStatus
from service.models.registry import (
    ApiKey,
    IdentifierPrefix,
    KeyScope,
    Organisation,
    OrganisationMerge,
    OrganisationRef,
    OrganisationRole,
    PrefixSource,
)
from service.models.results import Indicator, IndicatorPeriod, Result
from service.models.sync import SyncSource, SyncStatus
from service.models.types import ExactDecimal, JSONDocument, UtcDateTime, as_utc, utcnow
from service.models.webhooks import DeliveryOutcome, Webhook, WebhookDelivery, WebhookEvent

# The tables rebuilt from the model on every change of an activity, children first: the
# order in which to delete an activity's rows (each has `activity_id`).
QUERY_TABLES: tuple[type[SQLModel], ...] = (
    IndicatorPeriod,
    Indicator,
    Result,
    Sector,
    RecipientCountry,
    RecipientRegion,
    ActivityLink,
    Transaction,
    Budget,
    PlannedDisbursement,
    Loan,
    ParticipatingOrg,
    Location,
    Document,
    ActivityText,
)

metadata = SQLModel.metadata

__all__ = [
    "QUERY_TABLES",
    "Activity",
    "ActivityChange",
    "ActivityLink",
    "ActivityText",
    "ActivityTransfer",
    "ActivityVersion",
    "Agreement",
    "AgreementActivity",
    "AgreementMetric",
    "AgreementObjective",
    "AgreementParty",
    "AgreementStatus",
    "ApiKey",
    "Budget",
    "BudgetFigure",
    "BudgetView",
    "ChangeCounter",
    "CurrentFigure",
    "DeliveryOutcome",
    "Document",
    "DuplicateDecision",
    "DuplicateVerdict",
    "ExactDecimal",
    "IdentifierPrefix",
    "Indicator",
    "IndicatorPeriod",
    "JSONDocument",
    "Job",
    "JobFile",
    "JobKind",
    "JobStatus",
    "KeyScope",
    "LinkKind",
    "Loan",
    "Location",
    "MappingOverride",
    "Organisation",
    "OrganisationMerge",
    "OrganisationRef",
    "OrganisationRole",
    "Outcome",
    "ParticipatingOrg",
    "PartyRole",
    "PlannedDisbursement",
    "PrefixSource",
    "Push",
    "PushActivity",
    "PushMode",
    "PushScope",
    "PushStatus",
    "ReadEvent",
    "RecipientCountry",
    "RecipientRegion",
    "Result",
    "Sector",
    "SyncSource",
    "SyncStatus",
    "Transaction",
    "TransferKind",
    "UtcDateTime",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
    "as_utc",
    "metadata",
    "utcnow",
]
