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

_TIMEZONE: Final = re.compile(r"(?:Z|[+-](?:0\d|1[0-4]):[0-5]\d)?")


class IsoDate(date):
    """An `xs:date`: a date, plus its original text (which may carry a time zone)."""

    __slots__ = ("lexical",)
    lexical: str

    @classmethod
    def parse(cls, text: str) -> IsoDate:
        stripped = text.strip()
        try:
            day = date.fromisoformat(stripped[:10])
        except ValueError:
            raise ValueError(f"{text!r} is not an xs:date (YYYY-MM-DD)") from None
        if len(stripped) < 10 or stripped[4] != "-" or not _TIMEZONE.fullmatch(stripped, 10):
            raise ValueError(f"{text!r} is not an xs:date (YYYY-MM-DD)")
        found = cls(day.year, day.month, day.day)
        found.lexical = text
        return found

    def to_xml(self) -> str:
        return getattr(self, "lexical", None) or self.isoformat()

    def __reduce__(self) -> tuple[Any, ...]:
        return (IsoDate.parse, (self.to_xml(),))

    @classmethod
    def _validate(cls, value: Any) -> IsoDate:
        if isinstance(value, cls):
            return value
        if isinstance(value, datetime):
            raise PydanticCustomError("iso_date", "a date is expected, not a datetime")
        if isinstance(value, date):
            return cls(value.year, value.month, value.day)
        if isinstance(value, str):
            try:
                return cls.parse(value)
            except ValueError as error:
                raise PydanticCustomError("iso_date", str(error)) from None
        raise PydanticCustomError("iso_date", "a date (YYYY-MM-DD) is expected")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return _lexical_schema(cls._validate, IsoDate.to_xml)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "date"}


class IsoDateTime(datetime):
    """An `xs:dateTime`, plus its original text (time zone spelling, 7-digit fractions)."""

    __slots__ = ("lexical",)
    lexical: str

    @classmethod
    def parse(cls, text: str) -> IsoDateTime:
        stripped = text.strip()
        try:
            moment = datetime.fromisoformat(stripped)
        except ValueError:
            raise ValueError(f"{text!r} is not an xs:dateTime") from None
        if len(stripped) < 19 or stripped[10] != "T":
            raise ValueError(f"{text!r} is not an xs:dateTime (YYYY-MM-DDThh:mm:ss)")
        found = cls(
            moment.year, moment.month, moment.day, moment.hour, moment.minute,
            moment.second, moment.microsecond, moment.tzinfo,
        )
        found.lexical = text
        return found

    def to_xml(self) -> str:
        return getattr(self, "lexical", None) or self.isoformat()

    def __reduce__(self) -> tuple[Any, ...]:
        return (IsoDateTime.parse, (self.to_xml(),))

    @classmethod
    def _validate(cls, value: Any) -> IsoDateTime:
        if isinstance(value, cls):
            return value
        if isinstance(value, datetime):
            return cls(
                value.year, value.month, value.day, value.hour, value.minute,
                value.second, value.microsecond, value.tzinfo,
            )
        if isinstance(value, str):
            try:
                return cls.parse(value)
            except ValueError as error:
                raise PydanticCustomError("iso_datetime", str(error)) from None
        raise PydanticCustomError("iso_datetime", "a date and time (ISO 8601) is expected")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return _lexical_schema(cls._validate, IsoDateTime.to_xml)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "date-time"}


class XsdBoolean(int):
    """An `xs:boolean` (``1``, ``0``, ``true`` or ``false``): compares equal to True/False."""

    lexical: str
    _SPELLINGS: ClassVar[dict[str, XsdBoolean]] = {}

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
    def _validate(cls, value: Any) -> XsdBoolean:
        if isinstance(value, cls):
            return value
        if isinstance(value, bool):
            return cls.of("1" if value else "0")
        if isinstance(value, str):
            try:
                return cls.of(value)
            except ValueError as error:
                raise PydanticCustomError("xsd_boolean", str(error)) from None
        raise PydanticCustomError("xsd_boolean", "a boolean (1, 0, true or false) is expected")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                bool, when_used="json-unless-none"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "boolean"}


def _lexical_schema(validate: Any, to_xml: Any) -> core_schema.CoreSchema:
    return core_schema.no_info_plain_validator_function(
        validate,
        serialization=core_schema.plain_serializer_function_ser_schema(
            to_xml, when_used="json-unless-none"
        ),
    )
