"""Accounts' periodic jobs (run by `haven scheduler` + `haven db_worker`)."""

from datetime import timedelta

from haven.runtime.periodic import every

from .tasks import clear_expired_kept_forms, send_expiry_notices

# Each notice goes once per item and expiry date (ExpiryNotice); hourly runs catch an item on
# the day it reaches a notice period even after the scheduler was down.
every(timedelta(hours=1), send_expiry_notices)
# A form kept on session expiry is also deleted when anyone signs in after its time; this
# deletes the ones nobody came back for.
every(timedelta(minutes=5), clear_expired_kept_forms)
