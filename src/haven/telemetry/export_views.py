"""The evidential export page: a device's positions and events for a time range as CSV, GPX,
KML or a printable PDF route, each disclosure (with its recipient and the file's SHA-256) in
the ledger. Kept apart from views.py: one page, its form beside it."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from haven.accounts.roles import Module
from haven.accounts.types import AuthenticatedRequest
from haven.ui.forms import DateTimeLocal, GovukForm
from haven.ui.helpers import add_form_errors, attachment

from . import selectors
from .exports import Export

NAV = {"nav_active": Module.OPERATIONS}
FORMAT_CHOICES = [
    ("csv", "CSV (spreadsheet)"),
    ("gpx", "GPX (mapping tools)"),
    ("kml", "KML (Google Earth)"),
    ("pdf", "PDF route (printable)"),
]


class ExportForm(GovukForm):
    fmt = forms.ChoiceField(label="Format", choices=FORMAT_CHOICES)
    start = forms.DateTimeField(label="From", widget=DateTimeLocal())
    end = forms.DateTimeField(label="To", widget=DateTimeLocal())
    recipient = forms.CharField(
        label="Recipient",
        max_length=200,
        help_text="Who the export is disclosed to (person, role or organisation, with a "
        "reference): recorded in the audit ledger",
    )


def export_download(export: Export) -> HttpResponse:
    """The export as a download, its SHA-256 in the X-Haven-SHA256 header."""
    response = attachment(export.content, export.filename, export.content_type)
    response["X-Haven-SHA256"] = export.sha256
    return response


def device_export(request: AuthenticatedRequest, device_pk: UUID) -> HttpResponse:
    user = request.user
    device = selectors.get_device(user, device_pk)  # 404 unless its positions may be read
    now = timezone.localtime().replace(second=0, microsecond=0)
    form = ExportForm(
        request.POST or None,
        initial={"start": now - dt.timedelta(days=1), "end": now, "fmt": "pdf"},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            export = selectors.export_track(
                user, device.pk, data["start"], data["end"], data["fmt"], data["recipient"]
            )
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            return export_download(export)
    return render(
        request,
        "telemetry/export.html",
        {**NAV, "device": device, "form": form},
        status=400 if form.errors else 200,
    )
