#!/usr/bin/env python3
"""Lists the crate's public API from rustdoc's JSON (nightly), one line per path.

Usage: python3 tools/public_api.py target/doc/smtp_fixture.json > docs/public-api.txt
(tools/public-api.sh runs rustdoc and this script.)

What counts as one public item, so that counts compare across commits: every
module, type, trait, function, constant, type alias and macro a user can name,
every enum variant, public struct field, inherent public method or associated
constant, and every method of the crate's own traits. Trait implementations
(derives, From, Display...) are not listed: they grow with every derive and say
little about what a user must learn. Each item has one path: an item reachable
under two (a re-export beside the original) fails the listing.
"""
import json
import sys

doc = json.load(open(sys.argv[1]))
index = doc["index"]
lines = []  # (path, kind)
counted = {}  # item id -> kind


def kind_of(item):
    return next(iter(item["inner"]))


def public(item):
    return item["visibility"] == "public"


def emit(path, item):
    lines.append((path, kind_of(item)))
    counted[item["id"]] = kind_of(item)


def walk_impls(path, impl_ids):
    for impl_id in impl_ids:
        impl = index.get(str(impl_id))
        if impl is None:
            continue
        inner = impl["inner"]["impl"]
        if inner["trait"] is not None or inner.get("blanket_impl") is not None:
            continue
        for member_id in inner["items"]:
            member = index.get(str(member_id))
            if member and public(member):
                emit(f"{path}::{member['name']}", member)


def walk(path, item, seen):
    if item["id"] in seen:
        return
    seen = seen | {item["id"]}
    kind = kind_of(item)
    inner = item["inner"][kind]
    emit(path, item)
    if kind == "module":
        for child_id in inner["items"]:
            child = index.get(str(child_id))
            if child is None or not public(child):
                continue
            if kind_of(child) == "use":
                use = child["inner"]["use"]
                target = index.get(str(use["id"])) if use["id"] is not None else None
                if target is None or use["is_glob"]:
                    lines.append((f"{path}::{use['name']}", "extern re-export"))
                    continue
                walk(f"{path}::{use['name']}", target, seen)
            else:
                walk(f"{path}::{child['name']}", child, seen)
    elif kind == "struct":
        fields = inner["kind"].get("plain", {}).get("fields", []) if isinstance(inner["kind"], dict) else []
        for field_id in fields:
            field = index.get(str(field_id))
            if field and public(field):
                emit(f"{path}::{field['name']}", field)
        walk_impls(path, inner["impls"])
    elif kind == "enum":
        for variant_id in inner["variants"]:
            variant = index[str(variant_id)]
            emit(f"{path}::{variant['name']}", variant)
        walk_impls(path, inner["impls"])
    elif kind == "trait":
        for member_id in inner["items"]:
            member = index[str(member_id)]
            emit(f"{path}::{member['name']}", member)


root = index[str(doc["root"])]
walk(root["name"], root, frozenset())
listing = sorted(set(lines))
paths_of = {}
for path, kind in listing:
    paths_of.setdefault(path, kind)

# The audiences: the crate root is the test author's page; the server
# library's names live in its modules.
SERVER_MODULES = ("protocol", "handler", "handlers", "server", "smtpd")


def audience(path):
    parts = path.split("::")
    if len(parts) > 1 and parts[1] in SERVER_MODULES:
        return "server library (" + parts[1] + ")"
    return "test author (crate root)"


by_audience = {}
for path, kind in listing:
    if path == root["name"]:
        continue
    key = audience(path)
    by_audience[key] = by_audience.get(key, 0) + 1
kinds = {}
for kind in counted.values():
    kinds[kind] = kinds.get(kind, 0) + 1
breakdown = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
print(f"# The public API of smtp_fixture, one line per item (tools/public-api.sh writes it).")
print(f"# {len(counted)} public items under {len(listing)} paths: {breakdown}")
test_author = by_audience.get("test author (crate root)", 0)
server = sum(n for key, n in by_audience.items() if key.startswith("server library"))
print(f"# test author (the crate root): {test_author} items")
print(f"# server library: {server} items (" + ", ".join(
    f"{key[len('server library ('):-1]} {n}" for key, n in sorted(by_audience.items()) if key.startswith("server library")) + ")")
for path, kind in listing:
    print(f"{kind:16} {path}")
if len(listing) != len(counted):
    print(f"public_api: {len(listing) - len(counted)} items are reachable under more than one path", file=sys.stderr)
    sys.exit(1)
