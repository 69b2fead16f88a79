#!/usr/bin/env python3
"""Import cycles between the modules of each crate.

A module is a source file (`a/mod.rs` and `a.rs` are module `a`). An edge A -> B is a path
`crate::...`, `super::...` or `self::...` in A (in a `use` or inline) that names module B or an
item in it. A parent's use of its children counts (its re-exports are what others import), but
a child's use of its ancestors does not: children use their parent's small shared types, which
is Rust's usual layering. A cycle then means two parts need each other and neither is the lower
layer (`a -> b -> a`, or `a -> p -> p::c -> a` through a parent's re-export). Test modules
(`tests.rs`, `tests/`, `#[cfg(test)] mod tests`) are left out.

usage: import-cycles.py CRATE_SRC_DIR...      exit 1 and the cycles if there are any
       import-cycles.py --self-test             the checker finds the cycles it should
"""
import os
import re
import sys

PATH = re.compile(r"\b(crate|super|self)((?:::\w+)+|::\{)")
USE = re.compile(r"\buse\s+(\w+)::([^;]+);", re.S)


def modules(src):
    mods = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            full = os.path.join(root, f)
            rel = os.path.relpath(full, src)[:-3].split(os.sep)
            if rel[-1] in ("lib", "main", "mod"):
                rel = rel[:-1]
            if "tests" in rel or (rel and rel[-1] == "tests"):
                continue
            mods[tuple(rel)] = full
    return mods


def expand(tree):
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e] (as lists of names)."""
    tree = re.sub(r"\s+", "", tree)
    out = []

    def go(prefix, s):
        i = s.find("{")
        if i < 0:
            for part in s.split(","):
                if part:
                    out.append(prefix + [p for p in part.split(" as ")[0].split("::") if p])
            return
        head = [p for p in s[:i].split("::") if p]
        depth, start, parts = 0, i + 1, []
        for j in range(i + 1, len(s)):
            if s[j] == "{":
                depth += 1
            elif s[j] == "}":
                if depth == 0:
                    parts.append(s[start:j])
                    break
                depth -= 1
            elif s[j] == "," and depth == 0:
                parts.append(s[start:j])
                start = j + 1
        for p in parts:
            go(prefix + head, p)

    go([], tree)
    return out


def target(mods, here, root, names):
    if root == "crate":
        base = []
    elif root not in ("self", "super"):
        # A relative path: a child module of `here` (`use publish::Publish` in a mod.rs), or
        # another crate.
        if here + (root,) not in mods:
            return None
        base = list(here) + [root]
    elif root == "self":
        base = list(here)
    else:
        base = list(here[:-1])
        while names and names[0] == "super":
            base = base[:-1]
            names = names[1:]
    path = base + names
    # The longest prefix that is a module.
    for n in range(len(path), -1, -1):
        if tuple(path[:n]) in mods:
            return tuple(path[:n])
    return None


def ancestor(a, b):
    """True if module `a` is `b` or one of its ancestors."""
    return b[: len(a)] == a


def graph(src):
    mods = modules(src)
    edges = {m: set() for m in mods}
    for m, path in mods.items():
        text = open(path, encoding="utf-8").read()
        # Drop `#[cfg(test)] mod tests { ... }` bodies at the end of files.
        cut = text.find("#[cfg(test)]\nmod tests")
        if cut >= 0:
            text = text[:cut]
        text = re.sub(r"//[^\n]*", "", text)
        uses = []
        for root, tree in USE.findall(text):
            uses += [(root, t) for t in expand(tree)]
        for root, rest in PATH.findall(USE.sub("", text)):
            if rest != "::{":
                uses.append((root, [p for p in rest.split("::") if p]))
        for root, names in uses:
            t = target(mods, m, root, names)
            if t is not None and not ancestor(t, m):
                edges[m].add(t)
    return edges


def cycles(edges):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                strong(w)
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
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            strong(v)
    return out


def self_test():
    import tempfile

    files = {
        # a -> b -> a: a sibling cycle.
        "lib.rs": "mod a; mod b; mod p; mod q;\n",
        "a.rs": "use crate::b::B;\npub struct A;\n",
        "b.rs": "pub struct B(crate::a::A);\n",
        # q -> p (its re-export) -> p::c -> q: a cycle through a parent's re-export.
        "p/mod.rs": "mod c;\npub use c::C;\n",
        "p/c.rs": "use super::super::q::Q;\npub struct C;\n",
        "q.rs": "use crate::p::C;\npub struct Q;\n",
    }
    with tempfile.TemporaryDirectory() as d:
        for name, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
            open(os.path.join(d, name), "w").write(text)
        found = cycles(graph(d))
        assert [("a",), ("b",)] in found, found
        assert [("p",), ("p", "c"), ("q",)] in found, found
        # A child using its parent's items is no cycle.
        open(os.path.join(d, "b.rs"), "w").write("pub struct B;\n")
        open(os.path.join(d, "p/c.rs"), "w").write("use super::Other;\npub struct C;\n")
        assert cycles(graph(d)) == [], cycles(graph(d))
    print("import-cycles.py: self-test passed")


def main():
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return
    bad = 0
    for src in sys.argv[1:]:
        edges = graph(src)
        found = cycles(edges)
        name = lambda m: "::".join(m) or "crate"
        for comp in found:
            bad += 1
            inside = set(comp)
            print(f"{src}: cycle among {', '.join(name(m) for m in comp)}")
            for m in comp:
                for t in sorted(edges[m] & inside):
                    print(f"    {name(m)} -> {name(t)}")
        if not found:
            print(f"{src}: {len(edges)} modules, no import cycle")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
