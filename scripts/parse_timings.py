#!/usr/bin/env python3
"""Summarizes the criterion `parse` bench: median time of `parse_event` and of
`serde_json::Value` for every sample, their ratio, and the median and worst ratio.

usage: cargo bench -p clerk-webhooks-comparisons --bench parse -- --warm-up-time 1 --measurement-time 2
       python3 scripts/parse_timings.py [criterion directory, default target/criterion]
"""
import json, os, statistics, sys

root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"


def median_ns(group, function):
    # criterion writes the group "parse/NAME" as the directory "parse_NAME".
    path = os.path.join(root, group, function, "new", "estimates.json")
    with open(path) as file:
        return json.load(file)["median"]["point_estimate"]


rows = []
for group in sorted(os.listdir(root)):
    if not group.startswith("parse_"):
        continue
    try:
        event = median_ns(group, "parse_event")
        value = median_ns(group, "serde_json__Value")
    except FileNotFoundError:
        continue
    rows.append((group.removeprefix("parse_"), value, event, event / value))
if not rows:
    sys.exit(f"no parse results under {root}: run the bench first")
print(f"{'sample':36} {'Value µs':>10} {'parse_event µs':>15} {'ratio':>6}")
for name, value, event, ratio in rows:
    print(f"{name:36} {value / 1000:10.2f} {event / 1000:15.2f} {ratio:6.3f}")
ratios = [row[3] for row in rows]
print(f"median ratio {statistics.median(ratios):.3f}, worst {max(ratios):.3f} ({len(rows)} samples, "
      f"{sum(r <= 0.6 for r in ratios)} at or under 0.6)")
