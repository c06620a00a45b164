"""Validation in three stages, like the official IATI Validator: schema, codelists, rules."""

from iati.validate.pipeline import validate
from iati.validate.report import RecordReport, ValidationReport

__all__ = ["RecordReport", "ValidationReport", "validate"]
