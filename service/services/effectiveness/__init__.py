"""The aid-effectiveness scorecard: GPEDC monitoring indicators approximated from the
store's IATI data, per reporting organisation and year (see docs/effectiveness.md)."""
