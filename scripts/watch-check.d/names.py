#!/usr/bin/python3
"""Every metric the alert rules and the Grafana dashboard name is one the binaries export.

Usage: names.py [--live SCRAPE_FILE]
"""

import glob
import json
import re
import sys

import yaml

# PromQL words that are not metric names.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
            "unless", "offset", "inf", "nan", "le"}


def exported_by_sources():
    """Names registered with a literal in the binaries' sources, histograms expanded."""
    names = {}
    pattern = re.compile(r'metrics::(counter|gauge|histogram)!\(\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"')
    for path in glob.glob("module-*/src/**/*.rs", recursive=True):
        for kind, name in pattern.findall(open(path).read()):
            if kind == "histogram":
                for suffix in ("_bucket", "_sum", "_count"):
                    names[name + suffix] = path
            else:
                names[name] = path
    return names


def metric_names(expr):
    """The metric names an expression reads."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)          # strings (label_replace arguments)
    expr = re.sub(r"\{[^}]*\}", "", expr)                     # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)                    # ranges and subqueries
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    found = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
        word = match.group(0)
        rest = expr[match.end():].lstrip()
        if rest.startswith("(") or word.lower() in KEYWORDS:
            continue                                           # a function or a keyword
        if re.fullmatch(r"\d+(e\d+)?", word) or re.fullmatch(r"\d+[smhdwy]", word):
            continue
        found.add(word)
    return found


def main():
    live = None
    if len(sys.argv) == 3 and sys.argv[1] == "--live":
        live = set()
        for line in open(sys.argv[2]):
            if line and not line.startswith("#"):
                live.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    exported = exported_by_sources()
    rules = yaml.safe_load(open("deploy/prometheus/rules.yml"))
    recorded = {rule["record"] for group in rules["groups"] for rule in group["rules"] if "record" in rule}
    uses = {}
    for group in rules["groups"]:
        for rule in group["rules"]:
            where = f"rules.yml {rule.get('alert') or rule.get('record')}"
            for name in metric_names(rule["expr"]):
                uses.setdefault(name, []).append(where)
    dashboard = json.load(open("deploy/grafana/petory.json"))
    panels = 0
    for panel in dashboard["panels"]:
        targets = panel.get("targets", [])
        panels += bool(targets)
        for target in targets:
            for name in metric_names(target["expr"]):
                uses.setdefault(name, []).append(f"petory.json \"{panel['title']}\"")
    if not uses:
        sys.exit("watch-check: no expression found")
    unknown = {name: where for name, where in uses.items() if name not in exported and name not in recorded}
    missing_live = sorted(name for name in uses if live is not None and name not in recorded and name not in live)
    for name, where in sorted(unknown.items()):
        print(f"watch-check: {name} is exported by no binary (used by {', '.join(where)})")
    for name in missing_live:
        print(f"watch-check: {name} is not in the scrape of the running pods (used by {', '.join(uses[name])})")
    if unknown or missing_live:
        sys.exit(1)
    read = sorted(name for name in uses if name not in recorded)
    print(f"watch-check: {len(read)} metrics named by {sum(len(g['rules']) for g in rules['groups'])} rules and "
          f"{panels} panels, each exported by the binaries" + (" and present in the live scrape" if live is not None else ""))


if __name__ == "__main__":
    main()
