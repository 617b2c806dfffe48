#!/usr/bin/env python3
"""Prints the module dependency graph of each crate: one line per module
(source file) with its hand-written line count and the modules of the same
crate it uses through `crate::` or `super::` paths (test modules and the
`#[cfg(test)] mod tests` blocks left out, generated files marked), then the
largest hand-written files of the workspace.

    python3 .ci/tools/module-graph.py [ROOT] [--dot | --cycles]

ROOT defaults to the current directory (a checkout, or a `git worktree` of
an older commit to compare). With --dot it prints Graphviz instead
(`| dot -Tsvg > graph.svg`). With --cycles it prints the import cycles
between the modules of each crate and exits 1 if there is one (CI runs it).
"""
import os
import re
import sys

CRATE_DIRS = ["crates", "codegen", "xtask", "bench", "tests"]


def crate_sources(root):
    for top in CRATE_DIRS:
        base = os.path.join(root, top)
        if not os.path.isdir(base):
            continue
        if os.path.isfile(os.path.join(base, "Cargo.toml")):
            yield top, os.path.join(base, "src")
            continue
        for name in sorted(os.listdir(base)):
            src = os.path.join(base, name, "src")
            if os.path.isdir(src):
                yield name, src


def modules(src):
    files = {}
    for dirpath, _, names in os.walk(src):
        for name in names:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(dirpath, name)
            parts = os.path.relpath(path, src)[:-3].split(os.sep)
            if parts[0] == "bin":
                continue
            if parts[-1] in ("mod", "lib", "main"):
                parts = parts[:-1]
            files["::".join(parts) or "(root)"] = path
    return files


def resolve(files, here, path, kind):
    segments = path.split("::")
    if kind == "super":
        base = [] if here == "(root)" else here.split("::")[:-1]
        segments = base + segments
    for k in range(len(segments), 0, -1):
        candidate = "::".join(segments[:k])
        if candidate in files:
            return candidate
    return None


def without_tests(text):
    return re.sub(r"#\[cfg\(test\)\]\s*mod tests\s*\{.*", "", text, flags=re.S)


def graph(src):
    files = modules(src)
    edges, lines, generated = {}, {}, set()
    for module, path in sorted(files.items()):
        text = open(path, encoding="utf-8", errors="replace").read()
        if "@generated" in text.split("\n", 1)[0]:
            generated.add(module)
        body = without_tests(text)
        lines[module] = body.count("\n")
        targets = set()
        for kind, used in re.findall(r"\b(crate|super)::([a-z_][a-z0-9_:]*)", body):
            target = resolve(files, module, used, kind)
            if target and target != module and not module.startswith(target + "::"):
                targets.add(target)
        edges[module] = sorted(targets)
    return edges, lines, generated, files


def cycles(edges):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, []):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    dot = "--dot" in sys.argv
    root = args[0] if args else "."
    if "--cycles" in sys.argv:
        count = 0
        for crate, src in crate_sources(root):
            for component in cycles(graph(src)[0]):
                count += 1
                print(f"{crate}: " + " <-> ".join(component))
        print(f"module import cycles: {count}")
        sys.exit(1 if count else 0)
    largest = []
    if dot:
        print("digraph modules {\n  rankdir=LR;")
    for crate, src in crate_sources(root):
        edges, lines, generated, files = graph(src)
        if dot:
            print(f'  subgraph "cluster_{crate}" {{ label="{crate}";')
            for module, targets in edges.items():
                print(f'    "{crate}::{module}";')
                for target in targets:
                    print(f'    "{crate}::{module}" -> "{crate}::{target}";')
            print("  }")
            continue
        print(f"## {crate}")
        for module, targets in edges.items():
            mark = " (generated)" if module in generated else ""
            uses = ", ".join(targets) if targets else "-"
            print(f"  {module} [{lines[module]}]{mark} -> {uses}")
        for module, count in lines.items():
            if module not in generated:
                largest.append((count, os.path.relpath(files[module], root)))
    if dot:
        print("}")
        return
    print("## largest hand-written files (lines, tests excluded)")
    for count, path in sorted(largest, reverse=True)[:10]:
        print(f"  {count:5}  {path}")


if __name__ == "__main__":
    main()
