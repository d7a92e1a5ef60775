"""Who may do what to rota and welfare records, asked by services (to refuse) and by views and
templates (to offer), so each rule is written once."""

from __future__ import annotations

from haven.accounts.models import User

from .models import WelfareNote
from .staff import StaffGroup


def may_change_welfare_note(user: User, note: WelfareNote, group: StaffGroup) -> bool:
    """Correct or withdraw a welfare note: its author or a supervisor of the group, while they
    are in the group; once withdrawn, nobody."""
    if note.withdrawn or not group.includes(user):
        return False
    return note.recorded_by_id == user.pk or group.supervises(user)
