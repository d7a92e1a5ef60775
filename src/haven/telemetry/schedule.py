"""Telemetry's periodic jobs (run by `haven scheduler` + `haven db_worker`)."""

from datetime import timedelta

from haven.runtime.periodic import every

from .tasks import escalate_alerts, sweep_offline

every(timedelta(seconds=15), escalate_alerts)
every(timedelta(minutes=1), sweep_offline)
