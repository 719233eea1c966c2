#!/usr/bin/env python3
"""Turns workspace members into the packages a user's build sees: each manifest loses its
dev-dependencies and its workspace table and becomes a workspace of its own, so that `cargo
generate-lockfile` in its directory resolves only what `cargo add` or `cargo install` of it would.

usage: standalone.py ROOT MANIFEST...   (manifests relative to ROOT; edited in place)"""
import re
import sys


def standalone(text):
    text = re.sub(r"\n\[dev-dependencies\]\n(?:(?!\n\[)[\s\S])*", "\n", text)
    text = re.sub(r"\n\[workspace\]\n(?:(?!\n\[)[\s\S])*", "\n", text)
    return text.rstrip() + "\n\n[workspace]\n"


def main():
    root, manifests = sys.argv[1], sys.argv[2:]
    for manifest in manifests:
        path = f"{root}/{manifest}"
        with open(path) as file:
            text = file.read()
        with open(path, "w") as file:
            file.write(standalone(text))


main()
