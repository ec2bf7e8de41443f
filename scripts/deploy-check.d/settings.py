#!/usr/bin/python3
"""Every variable of README's configuration table reaches the pods of the rendered base: from
the ConfigMap, or set (or taken from the Secret) in a Deployment's or the Job's env.

Usage: settings.py README.md RENDERED_BASE.yaml
"""

import re
import sys

import yaml

# Never set in a cluster (development only), and per job (added as needed).
DELIBERATELY_UNSET = {"PETORY_DEV_MODE", "PETORY_SCHEDULE_<JOB>"}


def main():
    readme, rendered = sys.argv[1:3]
    table = open(readme).read().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            documented.update(re.findall(r"`([A-Z][A-Z0-9_<>]*)`", line.split("|")[1]))
    provided = set()
    for doc in yaml.safe_load_all(open(rendered)):
        if not doc:
            continue
        if doc["kind"] == "ConfigMap":
            provided.update(doc.get("data", {}))
        elif doc["kind"] in ("Deployment", "Job"):
            for container in doc["spec"]["template"]["spec"]["containers"]:
                provided.update(entry["name"] for entry in container.get("env", []))
    missing = sorted(documented - provided - DELIBERATELY_UNSET)
    if missing:
        sys.exit(f"settings: README's variables missing from the manifests: {', '.join(missing)}")
    print(f"  every one of README's {len(documented)} variables is set by the manifests "
          f"(but {', '.join(sorted(DELIBERATELY_UNSET))})")


if __name__ == "__main__":
    main()
