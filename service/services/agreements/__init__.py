"""Cooperation agreements (convenios) the ministry records, and their metrics' progress."""
