"""The register's periodic job (run by `haven scheduler` + `haven db_worker`)."""

from datetime import timedelta

from haven.runtime.periodic import every

from .tasks import remind_expiring_authorisations

# Hourly is plenty against a notice counted in days; each expiry is reminded once.
every(timedelta(hours=1), remind_expiring_authorisations)
