"""Casework's periodic jobs (run by `haven scheduler` + `haven db_worker`)."""

from datetime import timedelta

from haven.runtime.periodic import every

from .tasks import send_reminders

# Reminders go once a day per item (reminded_on); hourly runs catch items as they fall due.
every(timedelta(hours=1), send_reminders)
