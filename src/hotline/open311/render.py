"""Open311 responses as JSON or XML (the standard requires XML; JSON is what most apps read)."""

from __future__ import annotations

import json
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

# A list field's items are written as elements of the singular name.
_ITEMS = {"attributes": "attribute", "values": "value"}
FORMATS = ("json", "xml")


def _fill(parent: Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _fill(SubElement(parent, key), inner)
    elif isinstance(value, list):
        for inner in value:
            _fill(SubElement(parent, _ITEMS.get(parent.tag, "item")), inner)
    elif isinstance(value, bool):
        parent.text = "true" if value else "false"
    elif value is not None:
        parent.text = str(value)


def xml(root: str, item: str, rows: list[dict[str, Any]]) -> bytes:
    """`<root><item>…</item>…</root>`, each row's fields as child elements (None as an empty element)."""
    top = Element(root)
    for row in rows:
        _fill(SubElement(top, item), row)
    return b'<?xml version="1.0" encoding="utf-8"?>' + tostring(top, encoding="utf-8", xml_declaration=False)


def document(root: str, fields: dict[str, Any]) -> bytes:
    """`<root>` with FIELDS as child elements (a service definition)."""
    top = Element(root)
    _fill(top, fields)
    return b'<?xml version="1.0" encoding="utf-8"?>' + tostring(top, encoding="utf-8", xml_declaration=False)


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()
