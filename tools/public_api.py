#!/usr/bin/env python3
"""Lists the crate's public API from rustdoc's JSON (nightly), one line per path.

Usage: python3 tools/public_api.py target/doc/smtp_fixture.json > docs/public-api.txt
(tools/public-api.sh runs rustdoc and this script.)

What counts as one public item, so that counts compare across commits: every
module, type, trait, function, constant, type alias and macro a user can name,
every enum variant, public struct field, inherent public method or associated
constant, and every method of the crate's own traits. Trait implementations
(derives, From, Display...) are not listed: they grow with every derive and say
little about what a user must learn. An item reachable under two paths (a
re-export) is listed under each path but counted once.
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
for path, kind in sorted(set(lines)):
    print(f"{kind:16} {path}")
kinds = {}
for kind in counted.values():
    kinds[kind] = kinds.get(kind, 0) + 1
breakdown = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
print(f"# {len(counted)} public items ({len(set(lines))} paths): {breakdown}")
