"""The real settings with alerts escalating after 1 s instead of 5 minutes, so that the
end-to-end test sees the scheduler escalate within its deadline."""

from haven.settings import *  # noqa: F403

HAVEN_TELEMETRY = {"escalate_after_s": 1}
