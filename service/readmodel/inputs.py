"""What each kept answer is made from: the tables it reads, by name.

The kept answers (`service.services.memo`) and the followed values
(`service.services.following`) are served until the clock moves, so a write to any table
named here must record an event (`service.readmodel.clock.record`) in its transaction.
This is the one declaration of it; the tests' guard checks every transaction against
`INPUT_TABLES`.
"""

from __future__ import annotations

# An activity as stored: its row and its query tables (see `service.models.QUERY_TABLES`).
ACTIVITY = frozenset({
    "activity", "transaction", "budget", "planned_disbursement", "loan",
    "participating_org", "sector", "recipient_country", "recipient_region", "location",
    "document", "activity_text", "result", "indicator", "indicator_period", "activity_link",
})
# An activity's budget view: its figures on Ecuador's classification (a push, a remap).
VIEWS = frozenset({"budget_view", "budget_figure", "current_figure"})
# The registry: the organisations, the references naming them, their merges.
REGISTRY = frozenset({"organisation", "organisation_ref", "organisation_merge"})
# A push's outcome for each activity (a refusal is one). The `push` row itself is read
# only through them (its time and publisher), and is never changed once they exist.
OUTCOMES = frozenset({"push_activity"})

# Each kept answer or followed value, with the tables it reads.
INPUTS: dict[str, frozenset[str]] = {
    # memo: answers kept until the clock moves
    "aggregates": ACTIVITY | VIEWS | REGISTRY,
    "duplicates": ACTIVITY | REGISTRY | OUTCOMES | {"duplicate_decision"},
    "overlaps": ACTIVITY | VIEWS | REGISTRY | {"duplicate_decision"},
    "results-summary": ACTIVITY,
    "quality": ACTIVITY | REGISTRY | OUTCOMES,
    "partners": ACTIVITY | VIEWS | REGISTRY,
    # following: values of every live activity, followed through the change log
    "FIGURES": ACTIVITY | VIEWS,
    "FACTS": ACTIVITY | REGISTRY,
    "FLAGS": ACTIVITY,
    "RESULTS": ACTIVITY,
    "INVOLVEMENT": ACTIVITY | VIEWS | REGISTRY,
    # the mapping overrides decided by the ministry: the next views are made with them
    "mappings": frozenset({"mapping_override"}),
}

INPUT_TABLES: frozenset[str] = frozenset().union(*INPUTS.values())
