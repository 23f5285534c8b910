#!/usr/bin/env python3
"""Render fleetdex-bench's bench.json as the Markdown table the README shows.

    python3 scripts/bench-table.py bench-out/bench.json
"""
import json
import sys

doc = json.load(open(sys.argv[1]))
print(f"{doc['things']:,} things, seed {doc['seed']}, SQLite {doc['sqlite']}, {doc['cores']} cores.\n")
print("| stage | measurement | value | target | |")
print("|---|---|---:|---|---|")
for r in doc["rows"]:
    v = r["value"]
    shown = f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"
    ok = "" if "ok" not in r else ("ok" if r["ok"] else "**missed**")
    what = r["what"].replace("|", "\\|")
    print(f"| {r['stage']} | {what} | {shown} {r['unit']} | {r.get('target', '')} | {ok} |")
