"""Accounts' periodic jobs (run by `haven scheduler` + `haven db_worker`)."""

from datetime import timedelta

from haven.runtime.periodic import every

from .tasks import send_expiry_notices

# Each notice goes once per item and expiry date (ExpiryNotice); hourly runs catch an item on
# the day it reaches a notice period even after the scheduler was down.
every(timedelta(hours=1), send_expiry_notices)
