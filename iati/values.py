"""Typed XSD values that remember how they were written, so output reproduces input.

IATI files write the same value in several ways (``1`` / ``true``, ``2012-01-01`` /
``2012-01-01+00:00``, ``…37Z`` / ``…37.1234567Z``). The model holds real `date`,
`datetime` and boolean values; each also keeps its original lexical form, which the
writer uses. Values built in code have no lexical form and are written canonically.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, ClassVar, Final

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

_TIMEZONE: Final = r"(?:Z|[+-](?:0[0-9]|1[0-4]):[0-5][0-9])?"
# The XSD lexical forms, ASCII digits only (Python's fromisoformat also takes week dates).
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}" + _TIMEZONE)
_DATETIME: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?" + _TIMEZONE
)


class _Lexical:
    """Pydantic integration shared by the lexical value types.

    Subclasses give `_coerce` (value → instance, raising ValueError), `to_xml`,
    `_error` (the pydantic error type) and `_json` (their JSON schema).
    """

    _error: ClassVar[str]
    _json: ClassVar[dict[str, str]]

    @classmethod
    def _coerce(cls, value: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def _serialise(value: Any) -> Any:
        """The JSON form: the original text."""
        return value.to_xml()

    @classmethod
    def _validate(cls, value: Any) -> Any:
        if isinstance(value, cls):
            return value
        try:
            return cls._coerce(value)
        except ValueError as error:
            raise PydanticCustomError(cls._error, str(error)) from None

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                cls._serialise, when_used="json-unless-none"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return dict(cls._json)


class IsoDate(_Lexical, date):
    """An `xs:date`: a date, plus its original text (which may carry a time zone)."""

    __slots__ = ("lexical",)
    lexical: str
    _error = "iso_date"
    _json = {"type": "string", "format": "date"}  # noqa: RUF012 - read-only

    @classmethod
    def parse(cls, text: str) -> IsoDate:
        stripped = text.strip()
        try:
            if _DATE.fullmatch(stripped) is None:
                raise ValueError
            day = date.fromisoformat(stripped[:10])
        except ValueError:
            raise ValueError(f"{text!r} is not an xs:date (YYYY-MM-DD)") from None
        found = cls(day.year, day.month, day.day)
        found.lexical = text
        return found

    def to_xml(self) -> str:
        return getattr(self, "lexical", None) or self.isoformat()

    def __reduce__(self) -> tuple[Any, ...]:
        return (IsoDate.parse, (self.to_xml(),))

    @classmethod
    def _coerce(cls, value: Any) -> IsoDate:
        if isinstance(value, str):
            return cls.parse(value)
        if isinstance(value, date) and not isinstance(value, datetime):
            return cls(value.year, value.month, value.day)
        raise ValueError("a date (YYYY-MM-DD) is expected")


class IsoDateTime(_Lexical, datetime):
    """An `xs:dateTime`, plus its original text (time zone spelling, 7-digit fractions)."""

    __slots__ = ("lexical",)
    lexical: str
    _error = "iso_datetime"
    _json = {"type": "string", "format": "date-time"}  # noqa: RUF012 - read-only

    @classmethod
    def parse(cls, text: str) -> IsoDateTime:
        stripped = text.strip()
        try:
            if _DATETIME.fullmatch(stripped) is None:
                raise ValueError
            moment = datetime.fromisoformat(stripped)
        except ValueError:
            raise ValueError(f"{text!r} is not an xs:dateTime (YYYY-MM-DDThh:mm:ss)") from None
        found = cls._of(moment)
        found.lexical = text
        return found

    @classmethod
    def _of(cls, moment: datetime) -> IsoDateTime:
        return cls(
            moment.year, moment.month, moment.day, moment.hour, moment.minute,
            moment.second, moment.microsecond, moment.tzinfo,
        )

    def to_xml(self) -> str:
        return getattr(self, "lexical", None) or self.isoformat()

    def __reduce__(self) -> tuple[Any, ...]:
        return (IsoDateTime.parse, (self.to_xml(),))

    @classmethod
    def _coerce(cls, value: Any) -> IsoDateTime:
        if isinstance(value, str):
            return cls.parse(value)
        if isinstance(value, datetime):
            return cls._of(value)
        raise ValueError("a date and time (ISO 8601) is expected")


class XsdBoolean(_Lexical, int):
    """An `xs:boolean` (``1``, ``0``, ``true`` or ``false``): compares equal to True/False."""

    lexical: str
    _SPELLINGS: ClassVar[dict[str, XsdBoolean]] = {}
    _error = "xsd_boolean"
    _json = {"type": "boolean"}  # noqa: RUF012 - read-only

    @staticmethod
    def _serialise(value: Any) -> Any:
        """The JSON form: a JSON boolean."""
        return bool(value)

    @classmethod
    def of(cls, text: str) -> XsdBoolean:
        found = cls._SPELLINGS.get(text)
        if found is None:
            stripped = text.strip()
            if stripped not in ("1", "0", "true", "false"):
                raise ValueError(f"{text!r} is not an xs:boolean (1, 0, true or false)")
            found = cls(stripped in ("1", "true"))
            found.lexical = text
            cls._SPELLINGS[text] = found
        return found

    def to_xml(self) -> str:
        return self.lexical

    def __repr__(self) -> str:
        return f"XsdBoolean({self.lexical!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (XsdBoolean.of, (self.lexical,))

    @classmethod
    def _coerce(cls, value: Any) -> XsdBoolean:
        if isinstance(value, bool):
            return cls.of("1" if value else "0")
        if isinstance(value, str):
            return cls.of(value)
        raise ValueError("a boolean (1, 0, true or false) is expected")

