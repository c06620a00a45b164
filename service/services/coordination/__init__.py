"""Coordination between donors: duplicate activities and overlapping funding."""
