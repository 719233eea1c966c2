#!/usr/bin/env python3
"""Fails when a locked dependency of a published package (normal and build dependencies, with the
given features) declares a rust-version newer than that package's own. The machine has one
toolchain, so this, with clippy's incompatible_msrv lint over our own code, is how CI holds each
declared MSRV honest.

usage: msrv.py [cargo metadata feature arguments...]

Each published member of the workspace that the metadata holds is checked against its own
rust-version: clerk-webhooks and clerk-webhooks-redis (1.89), clerk-webhooks-sqlx (what sqlx 0.9
declares), clerk-webhooks-cli. Members with `publish = false` (the comparisons, the demo, the test
support) are not: no user builds them."""
import json
import subprocess
import sys


def version(text):
    parts = [int(part) for part in (text or "0").split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    metadata = json.loads(
        subprocess.check_output(
            ["cargo", "metadata", "--format-version", "1", *sys.argv[1:]]
        )
    )
    packages = {package["id"]: package for package in metadata["packages"]}
    nodes = {node["id"]: node for node in metadata["resolve"]["nodes"]}
    members = set(metadata["workspace_members"])
    roots = [
        p
        for p in metadata["packages"]
        if p["id"] in members and p.get("publish") != []
    ]
    features = " ".join(sys.argv[1:]) or "default features"
    failed = False
    for root in roots:
        failed |= check(root, packages, nodes, features)
    if failed:
        sys.exit(1)


def check(root, packages, nodes, features):
    declared = root["rust_version"]
    seen, stack = set(), [root["id"]]
    while stack:
        package = stack.pop()
        if package in seen:
            continue
        seen.add(package)
        for dep in nodes[package]["deps"]:
            if any(kind["kind"] != "dev" for kind in dep["dep_kinds"]):
                stack.append(dep["pkg"])
    too_new = sorted(
        (packages[p]["name"], packages[p]["version"], packages[p]["rust_version"])
        for p in seen
        if version(packages[p]["rust_version"]) > version(declared)
    )
    name = root["name"]
    if too_new:
        print(f"rust-version {declared} of {name} is not honest with {features}; these need newer:")
        for dep, ver, rust in too_new:
            print(f"  {dep} {ver} needs Rust {rust}")
        return True
    print(f"rust-version {declared}: all {len(seen)} packages of {name} ({features}) agree")
    return False

main()
