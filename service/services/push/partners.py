"""The partners named in a push's activities, looked up once per push, not once per activity.

Files name the same participating organisations over and over (the funder, the usual
implementing partners). `link_partners` registers or links them; `PartnerLinks`
remembers, for the rest of the push, the organisation each participant was linked to,
and only asks `link_partners` about participants it has not seen. A participant of an
activity for Ecuador may be an entity of the catalogue of Ecuadorian entities, so whether
the activity is for Ecuador is part of what was seen. A participant is
remembered only once the transaction that linked it has committed, so a rolled-back
activity never leaves an organisation id behind that the database does not have.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from iati.elements.activity import Activity as IatiActivity
from service.services.organisations import Participant, link_partners, partner_key

# A participating-org as linking sees it: ref, type, role, its names (text, lang), and
# whether its activity is for Ecuador.
_Key = tuple[
    str | None, str | None, str | None, tuple[tuple[str | None, str | None], ...], bool]
ECUADOR = "EC"


class PartnerLinks:
    """Organisation ids of the participants linked so far in one push."""

    def __init__(self) -> None:
        self._known: dict[_Key, int | None] = {}
        self._pending: dict[_Key, int | None] = {}

    def link(self, session: Session, activity: IatiActivity) -> list[int | None]:
        """The organisation id of each participating-org of `activity`, in order.

        None for a participant with neither identifier nor name. Unseen participants are
        registered or linked in `session`'s transaction; call `keep` once it commits.
        """
        ecuador = _for_ecuador(activity)
        keys = [
            _key(org.ref, org.type, org.role, org.narratives, ecuador)
            for org in activity.participating_orgs
        ]
        unseen = list(dict.fromkeys(key for key in keys if key not in self._known))
        if unseen:
            participants: list[Participant] = [_participant(key) for key in unseen]
            linked = link_partners(session, participants=participants, in_ecuador=ecuador)
            for key, (ref, _type, _role, names) in zip(unseen, participants, strict=True):
                found = partner_key(ref, names)
                self._pending[key] = None if found is None else linked.get(found)
        return [self._known[key] if key in self._known else self._pending[key] for key in keys]

    def keep(self) -> None:
        """The transaction committed: remember what it linked."""
        self._known.update(self._pending)
        self._pending.clear()

    def forget(self) -> None:
        """The transaction rolled back: forget what it linked (and, to be safe, the rest)."""
        self._pending.clear()
        self._known.clear()


def _key(
    ref: str | None, kind: str | None, role: str | None, narratives: Any, ecuador: bool
) -> _Key:
    return (ref, kind, role, tuple((name.text, name.lang) for name in narratives), ecuador)


def _participant(key: _Key) -> Participant:
    ref, kind, role, names, _ecuador = key
    return (ref, kind, role, [{"text": text, "lang": lang} for text, lang in names])


def _for_ecuador(activity: IatiActivity) -> bool:
    """Whether Ecuador is a recipient country of the activity or of one of its transactions."""
    codes = {(country.code or "").strip().upper() for country in activity.recipient_countries}
    codes |= {(t.recipient_country.code or "").strip().upper()
              for t in activity.transactions if t.recipient_country is not None}
    return ECUADOR in codes
