"""Upgrade of IATI 1.0x activity records into IATI 2.03 structure, every step a finding."""

from iati.upgrade.detect import looks_like_1x
from iati.upgrade.record import upgrade_record

__all__ = ["looks_like_1x", "upgrade_record"]
