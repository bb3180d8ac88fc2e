#!/usr/bin/env python3
"""Writes src/service/html_check/caniemail.json, the HTML check's data: the
caniemail.com features that src/service/html_check/rules.rs names (and the
platform list over all features), with only the fields the check reads.

Source: caniemail.com's data (https://www.caniemail.com/api/data.json, MIT),
as Mailpit ships it (internal/htmlcheck/caniemail-data.json, repository
axllent/mailpit, MIT). Descriptions and notes are Markdown there; they are
written here as the HTML Mailpit serves (code spans and links; Mailpit's
renderer also makes typographic quotes, which this one does not).

Usage: python3 tools/caniemail_compact.py caniemail-data.json SOURCE_NOTE
"""

import html
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "src/service/html_check/rules.rs"
OUT = ROOT / "src/service/html_check/caniemail.json"

LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")


def markdown(text):
    """caniemail's Markdown (code spans, links) as HTML, as Mailpit's mdToHTML."""
    out = []
    for i, piece in enumerate((text or "").strip().split("`")):
        if i % 2:
            out.append("<code>" + html.escape(piece, quote=False) + "</code>")
        else:
            escaped = html.escape(piece, quote=False)
            out.append(LINK.sub(lambda m: '<a href="%s" target="_blank">%s</a>' % (m.group(2), m.group(1)), escaped))
    return "".join(out)


def main():
    source, note = sys.argv[1], sys.argv[2]
    data = json.loads(Path(source).read_text())
    wanted = set(re.findall(r'"((?:css|html|image)-[a-z0-9-]+)"', RULES.read_text()))
    families = data["nicenames"]["family"]
    platforms = {}
    features = {}
    for feature in data["data"]:
        for family, by_platform in feature["stats"].items():
            for platform in by_platform:
                names = platforms.setdefault(platform, [])
                if families.get(family, "") not in names:
                    names.append(families.get(family, ""))
        if feature["slug"] not in wanted:
            continue
        features[feature["slug"]] = {
            "title": feature["title"],
            "description": markdown(feature["description"]),
            "url": feature["url"],
            "category": feature["category"],
            "tags": feature["tags"] or [],
            "notes": {number: markdown(n) for number, n in (feature.get("notes_by_num") or {}).items()},
            "stats": [
                [family, platform, version, support]
                for family, by_platform in feature["stats"].items()
                for platform, by_version in by_platform.items()
                for version, support in by_version.items()
            ],
        }
    compact = {
        "source": note,
        "last_update_date": data["last_update_date"],
        "licence": "MIT (caniemail.com; as shipped in Mailpit, axllent/mailpit, MIT)",
        "families": families,
        "platform_names": data["nicenames"]["platform"],
        "platforms": {platform: sorted(names) for platform, names in platforms.items()},
        "features": features,
    }
    OUT.write_text(json.dumps(compact, separators=(",", ":"), ensure_ascii=False) + "\n")
    print(f"{len(features)} of {len(data['data'])} features, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
