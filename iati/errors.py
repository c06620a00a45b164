"""Exceptions for input that cannot be processed at all (everything else is a Finding)."""

from __future__ import annotations


class IatiInputError(Exception):
    """The input is not IATI XML that can be read: not XML, wrong root, too large, …

    `code` is stable (``input.not-xml``, ``input.not-iati``, ``input.dtd-forbidden``,
    ``input.too-large``, ``input.unsupported-version``, ``input.empty``,
    ``input.too-many-attributes``); `message` says what
    was wrong and what to do next; `line` is where the reader stopped, when known.
    """

    def __init__(self, code: str, message: str, *, line: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.line = line

    def as_dict(self) -> dict[str, object]:
        found: dict[str, object] = {"code": self.code, "message": self.message}
        if self.line is not None:
            found["line"] = self.line
        return found
