"""Telemetry's periodic jobs (run by `haven scheduler` + `haven db_worker`)."""

from datetime import timedelta

from haven.runtime.periodic import every

from .config import get_config
from .tasks import escalate_alerts, sweep_offline

every(timedelta(seconds=get_config().escalation_check_every_s), escalate_alerts)
every(timedelta(minutes=1), sweep_offline)
