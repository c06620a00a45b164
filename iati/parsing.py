"""The one hardened lxml parser configuration: no DTD, no entities, no network, no recovery."""

from __future__ import annotations

import threading

from lxml import etree

_LOCAL = threading.local()


def hardened_parser() -> etree.XMLParser:
    """This thread's hardened parser (lxml parsers must not be shared between threads)."""
    parser: etree.XMLParser | None = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
            recover=False,
        )
    return parser
