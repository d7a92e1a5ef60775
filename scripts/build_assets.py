"""Copy the npm front-end packages into Haven's static folder.

GOV.UK and MOJ Frontend ship CSS that points at /assets/…; we serve them under
STATIC_URL, so the URLs are rewritten to be relative to each stylesheet.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
VENDOR = ROOT / "src" / "haven" / "web" / "static" / "vendor"

SOURCE_MAP = re.compile(r"\n?(/\*# sourceMappingURL=[^*]*\*/|//# sourceMappingURL=\S*)\s*$")

COPIES = [
    (NODE / "govuk-frontend/dist/govuk/govuk-frontend.min.css", VENDOR / "govuk"),
    (NODE / "govuk-frontend/dist/govuk/govuk-frontend.min.js", VENDOR / "govuk"),
    (NODE / "govuk-frontend/dist/govuk/assets", VENDOR / "govuk/assets"),
    (NODE / "@ministryofjustice/frontend/moj/moj-frontend.min.css", VENDOR / "moj"),
    (NODE / "@ministryofjustice/frontend/moj/moj-frontend.min.js", VENDOR / "moj"),
    (NODE / "@ministryofjustice/frontend/moj/assets", VENDOR / "moj/assets"),
    (NODE / "htmx.org/dist/htmx.min.js", VENDOR / "htmx"),
    # The operations map: Leaflet, and leaflet-geoman to draw and edit geofences on it.
    (NODE / "leaflet/dist/leaflet.js", VENDOR / "leaflet"),
    (NODE / "leaflet/dist/leaflet.css", VENDOR / "leaflet"),
    (NODE / "leaflet/dist/images", VENDOR / "leaflet/images"),
    (NODE / "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js", VENDOR / "geoman"),
    (NODE / "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css", VENDOR / "geoman"),
]


def main() -> int:
    missing = [str(src) for src, _ in COPIES if not src.exists()]
    if missing:
        print(f"front-end packages missing ({missing[0]}): run `npm ci` first", file=sys.stderr)
        return 1
    for src, dest in COPIES:
        if src.is_dir():
            shutil.copytree(src, dest, dirs_exist_ok=True)
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / src.name)
    for css in VENDOR.glob("*/*.min.css"):
        css.write_text(css.read_text().replace("url(/assets/", "url(assets/"))
    # Source maps are not shipped: a reference to a missing map would fail `collectstatic`.
    for built in [*VENDOR.glob("*/*.css"), *VENDOR.glob("*/*.js")]:
        built.write_text(SOURCE_MAP.sub("", built.read_text()))
    print(f"front-end assets built into {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
