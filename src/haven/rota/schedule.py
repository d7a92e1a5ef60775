"""The rotas' periodic job (run by `haven scheduler` + `haven db_worker`)."""

from datetime import timedelta

from haven.runtime.periodic import every

from .tasks import remind_upcoming_shifts

# Every quarter of an hour: a shift is reminded at most this much after its notice begins, and
# an override made inside the notice is reminded at the next run. Each shift is reminded once.
every(timedelta(minutes=15), remind_upcoming_shifts)
