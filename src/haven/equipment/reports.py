"""Deployment log and custody history as CSV and PDF (WeasyPrint). Every export is a
disclosure entry in the ledger, written by the caller's selector."""

from __future__ import annotations

from collections.abc import Iterable

from django.template.loader import render_to_string
from django.utils import timezone

from haven import csvfiles

from .models import Asset, CustodyEvent, Deployment


def _local(value: object) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""  # type: ignore[arg-type]


CUSTODY_HEADER = [
    "sequence",
    "when",
    "what",
    "from",
    "to",
    "where",
    "signed by",
    "signature",
    "deployment",
    "note",
    "hash",
]


def custody_rows(events: Iterable[CustodyEvent]) -> list[list[object]]:
    return [
        [
            e.sequence,
            _local(e.occurred_at),
            e.get_kind_display(),
            e.from_label,
            e.to_label,
            e.location,
            str(e.signed_by),
            e.signature,
            e.deployment.reference if e.deployment_id and e.deployment else "",
            e.note,
            e.entry_hash[:16],
        ]
        for e in events
    ]


def custody_csv(events: Iterable[CustodyEvent]) -> bytes:
    return csvfiles.csv_bytes(CUSTODY_HEADER, custody_rows(events))


LOG_HEADER = [
    "reference",
    "title",
    "operation",
    "status",
    "starts",
    "ends",
    "overnight stays",
    "team",
    "kit",
    "outcome",
]


def log_rows(deployments: Iterable[Deployment]) -> list[list[object]]:
    rows = []
    for d in deployments:
        team = "; ".join(f"{m.user} ({m.get_place_display()})" for m in d.team)
        kit = "; ".join(row.asset.serial for row in d.kit.all())
        rows.append(
            [
                d.reference,
                d.title,
                d.operation_name,
                d.get_status_display(),
                _local(d.starts_at),
                _local(d.ends_at),
                d.overnight_stays,
                team,
                kit,
                d.outcome,
            ]
        )
    return rows


def deployment_log_csv(deployments: Iterable[Deployment]) -> bytes:
    return csvfiles.csv_bytes(LOG_HEADER, log_rows(deployments))


def pdf(template: str, context: dict[str, object]) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template, {**context, "generated_at": timezone.localtime()})
    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]


def custody_pdf(asset: Asset, events: list[CustodyEvent], marking: str) -> bytes:
    return pdf(
        "equipment/pdf/custody.html",
        {
            "asset": asset,
            "header": CUSTODY_HEADER,
            "rows": custody_rows(events),
            "marking": marking,
        },
    )


def deployment_log_pdf(deployments: list[Deployment], marking: str) -> bytes:
    return pdf(
        "equipment/pdf/log.html",
        {"header": LOG_HEADER, "rows": log_rows(deployments), "marking": marking},
    )


def plan_pdf(deployment: Deployment) -> bytes:
    return pdf("equipment/pdf/plan.html", {"deployment": deployment, "marking": deployment.marking})
