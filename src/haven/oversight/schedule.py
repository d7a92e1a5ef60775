"""Oversight's periodic jobs (run by `haven scheduler` + `haven db_worker`)."""

from datetime import timedelta

from haven.runtime.periodic import every

from .tasks import notify_overdue_governance_actions, send_deadline_reminders

# Each threshold is sent once per deadline (DeadlineReminder), so hourly runs only catch
# deadlines as they come within reach, e.g. after a bank holiday or a new complaint.
every(timedelta(hours=1), send_deadline_reminders)
# Overdue governance actions: each owner is told once per due date (DeadlineReminder, 0).
every(timedelta(hours=1), notify_overdue_governance_actions)
