"""References in URL paths (issue 20 "references everywhere"): `/cases/HVN-2026-00052/` opens
the same page as `/cases/<its id>/`.

Each converter takes an object's id, or its reference in the series registered for that kind
of object (haven.concurrency.references), and gives the view the id, so that the view and its
selector decide access exactly as they do for an id. A reference that names nothing (or names
another kind of object) becomes an id that matches nothing: the selector's 404, the same answer
as for an unknown id or a record the user may not see, and the same for a user outside the
module (whose request is refused by the module gate before any view runs, whatever the
reference names). Links the service writes keep using ids (`reverse` with an id).

Importing this module registers the converters; each urlconf that uses them imports it.
"""

from __future__ import annotations

import re
from uuid import UUID

from django.urls import register_converter

from haven.concurrency import references

# An id that no record has: uuid4 never makes it (its version bits are zero).
NOTHING = UUID(int=0)
UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
REFERENCE_PATTERN = "[A-Za-z]{2,5}-[0-9]{4}-[0-9]{1,8}"
_UUID = re.compile(f"^{UUID_PATTERN}$")


def id_named_by(value: object, object_type: str) -> UUID:
    """The id `value` names: an id as it is, or the id of the `object_type` whose reference it
    is; NOTHING for a reference that names no such object. ValueError for anything else."""
    if isinstance(value, UUID):
        return value
    text = str(value).strip()
    if _UUID.match(text):
        return UUID(text)
    if not re.fullmatch(REFERENCE_PATTERN, text):
        raise ValueError(f"neither an id nor a reference: {text!r}")
    resolved = references.resolve(text, object_type)
    return resolved[1] if resolved is not None else NOTHING


class ReferenceOrId:
    """A path segment naming one kind of object by id or by reference."""

    regex = f"{UUID_PATTERN}|{REFERENCE_PATTERN}"
    object_type = ""

    def to_python(self, value: str) -> UUID:
        return id_named_by(value, self.object_type)

    def to_url(self, value: object) -> str:
        return str(value)


# The kinds of object a path may name by id or reference: the converter's name in paths, and
# the reference series (object type) it resolves in. The API's path parameters name the same
# kinds (haven.ui.apihelpers).
OBJECT_TYPES = {
    "case": "case",
    "deployment": "deployment",
    "complaint": "oversight_complaint",
    "hearing": "oversight_hearing",
    "tribunal": "oversight_tribunal",
    "forfeiture": "oversight_forfeiture",
    "meeting": "oversight_governance",
}


def _converter(name: str) -> type[ReferenceOrId]:
    """Register, as `<name:...>` in paths, the converter for one kind of object."""
    attributes = {"object_type": OBJECT_TYPES[name]}
    converter = type(f"{name.title()}Converter", (ReferenceOrId,), attributes)
    register_converter(converter, name)
    return converter


CaseConverter = _converter("case")
DeploymentConverter = _converter("deployment")
ComplaintConverter = _converter("complaint")
HearingConverter = _converter("hearing")
TribunalConverter = _converter("tribunal")
ForfeitureConverter = _converter("forfeiture")
MeetingConverter = _converter("meeting")
