#!/usr/bin/env python3
"""Finds import circles between the crate's files: `python3 tools/import_cycles.py [src]`.

A file imports another when it names a path into it (`use crate::a::b::X`,
`use super::x`, or such a path inline). Files that import each other, directly
or through others, form a circle: one idea split across files, or two ideas
that lean on each other. A child module naming its parent (`super::X` in
`a/b.rs` for an item of `a/mod.rs`) counts, but a module's own tests
(`tests.rs`, `*_tests.rs`, `#[cfg(test)] mod tests` are skipped) do not.
Prints each circle; exits 1 when there is one.
"""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "src"
files = {}  # module path tuple -> file
for dirpath, _, names in os.walk(root):
    for name in names:
        if not name.endswith(".rs"):
            continue
        path = os.path.join(dirpath, name)
        rel = os.path.relpath(path, root)[:-3].split(os.sep)
        if rel[0] == "bin":
            continue
        if rel[-1] in ("mod", "lib"):
            rel = rel[:-1]
        files[tuple(rel)] = path


def is_test_file(path):
    base = os.path.basename(path)
    return base == "tests.rs" or base.endswith("_tests.rs")


def expand(prefix, body):
    """`a::{b, c::{d}}` -> [a::b, a::c::d]."""
    body = body.strip()
    if not body.startswith("{"):
        return [prefix + body]
    inner, depth, part, parts = body[1:-1], 0, "", []
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(part)
            part = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        part += ch
    parts.append(part)
    out = []
    for p in parts:
        p = p.strip()
        if not p:
            continue
        m = re.match(r"^([\w:]*?)(\{.*\})$", p, re.S)
        if m:
            out += expand(prefix + m.group(1), m.group(2))
        else:
            out.append(prefix + p)
    return out


def strip_tests(text):
    # Drop `#[cfg(test)] mod tests { ... }` bodies (to the end of the file, as written here).
    m = re.search(r"#\[cfg\(test\)\]\s*mod \w+\s*\{", text)
    return text[: m.start()] if m else text


def module_of(path_tuple, me):
    """The longest known module prefix of an absolute path."""
    for n in range(len(path_tuple), 0, -1):
        if path_tuple[:n] in files:
            return path_tuple[:n]
    return None


edges = {m: set() for m in files}
for mod, path in files.items():
    if is_test_file(path):
        continue
    text = strip_tests(open(path, encoding="utf-8").read())
    text = re.sub(r"//[^\n]*", "", text)
    paths = []
    for m in re.finditer(r"\buse\s+((?:crate|super|self)::[^;]*);", text, re.S):
        stmt = re.sub(r"\s+as\s+\w+", "", m.group(1))
        stmt = re.sub(r"\s+", "", stmt)
        head = re.match(r"^([\w:]*::)(\{.*\})$", stmt)
        paths += expand(head.group(1), head.group(2)) if head else [stmt]
    paths += re.findall(r"\b(?:crate|super)(?:::\w+)+", text)
    for p in paths:
        parts = p.split("::")
        if parts[0] == "crate":
            target = tuple(parts[1:])
        else:
            base = list(mod)
            if parts[0] == "self":
                parts = parts[1:]
            while parts and parts[0] == "super":
                base = base[:-1]
                parts = parts[1:]
            target = tuple(base + parts)
        dest = module_of(target, mod)
        if dest is not None and dest != mod and dest != ():
            # A parent module re-exporting its children is structure, not a circle.
            if dest == mod[: len(dest)] or mod == dest[: len(mod)]:
                continue
            edges[mod].add(dest)

# Tarjan's strongly connected components.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in edges[v]:
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(comp)


sys.setrecursionlimit(10000)
for v in sorted(files):
    if v not in index:
        visit(v)
for comp in sccs:
    names = sorted("::".join(c) for c in comp)
    print("import circle: " + " <-> ".join(names))
if not sccs:
    print("import circles: none")
sys.exit(1 if sccs else 0)
