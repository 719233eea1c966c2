#!/usr/bin/env python3
"""Fails when a locked dependency of the library (normal and build dependencies, with the given
features) declares a rust-version newer than the crate's own. The machine has one toolchain, so
this, with clippy's incompatible_msrv lint over our own code, is how CI holds the declared MSRV
honest.

usage: msrv.py [cargo metadata feature arguments...]"""
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
    root = next(p for p in metadata["packages"] if p["name"] == "clerk-webhooks")
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
    features = " ".join(sys.argv[1:]) or "default features"
    if too_new:
        print(f"rust-version {declared} is not honest with {features}; these need newer:")
        for name, ver, rust in too_new:
            print(f"  {name} {ver} needs Rust {rust}")
        sys.exit(1)
    print(f"rust-version {declared}: all {len(seen)} packages of the library ({features}) agree")


main()
