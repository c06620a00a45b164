"""The references of an activity to other activities, read from its model (pure).

A transaction's provider-activity-id and receiver-activity-id trace the money along the
delivery chain; related-activity and other-identifier tie an activity to its parent,
children, siblings, co-funded activities and former or co-reported identifiers. Push
(`service.projection`) reads them here; the migration that filled the table for stored
activities (0010) carries its own reading of the stored documents, the same as this one
when it was written (a test compares the two on real files).
"""

from __future__ import annotations

from dataclasses import dataclass

from iati.elements.activity import Activity as IatiActivity
from service.models.links import LinkKind


@dataclass(frozen=True, slots=True)
class LinkRow:
    """One reference; `transaction` is the index of its transaction (from 0), if any."""

    kind: LinkKind
    target: str
    type: str | None
    org_ref: str | None
    transaction: int | None = None

    def columns(self) -> dict[str, str | None]:
        """The `activity_link` columns it gives (all but the keys)."""
        return {
            "kind": self.kind.value, "type": self.type, "target": self.target,
            "org_ref": self.org_ref,
        }


def activity_links(activity: IatiActivity) -> list[LinkRow]:
    """Every reference `activity` makes to another activity, in file order (transactions
    first); references to itself and empty ones are left out."""
    own = (activity.identifier or "").strip()
    found: list[LinkRow] = []
    for index, transaction in enumerate(activity.transactions):
        kind = transaction.transaction_type.code if transaction.transaction_type else None
        if (provider := transaction.provider_org) is not None:
            found.append(LinkRow(
                LinkKind.transaction_incoming, _clean(provider.provider_activity_id), kind,
                provider.ref, index,
            ))
        if (receiver := transaction.receiver_org) is not None:
            found.append(LinkRow(
                LinkKind.transaction_outgoing, _clean(receiver.receiver_activity_id), kind,
                receiver.ref, index,
            ))
    found += [
        LinkRow(LinkKind.related_activity, _clean(related.ref), related.type, None)
        for related in activity.related_activities
    ]
    found += [
        LinkRow(
            LinkKind.other_identifier, _clean(other.ref), other.type,
            other.owner_org.ref if other.owner_org else None,
        )
        for other in activity.other_identifiers
    ]
    return [link for link in found if link.target and link.target != own]


def _clean(identifier: str | None) -> str:
    return (identifier or "").strip()
