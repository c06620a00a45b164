"""Signing events: HMAC-SHA256 of ``f"{timestamp}.{body}"`` with the webhook's secret.

The `IATI-EC-Signature` header reads ``t=<unix seconds>,v1=<hex digest>``. A receiver
recomputes the digest over the timestamp and the raw body it received, compares in
constant time, and refuses timestamps too far from its clock (replayed requests).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "IATI-EC-Signature"
EVENT_HEADER = "IATI-EC-Event"
DELIVERY_HEADER = "IATI-EC-Delivery"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``<timestamp>.<body>`` under `secret`."""
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the `IATI-EC-Signature` header."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes) -> bool:
    """Whether `header` signs `body` with `secret` (what a receiver does, minus the clock)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    return hmac.compare_digest(parts.get("v1", ""), signature(secret, timestamp, body))
