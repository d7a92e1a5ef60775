"""The real settings with alerts escalating after 1 s instead of 5 minutes, looked for every
2 s instead of 15, so that the end-to-end tests see the scheduler escalate within seconds."""

from haven.settings import *  # noqa: F403

HAVEN_TELEMETRY = {"escalate_after_s": 1, "escalation_check_every_s": 2}
