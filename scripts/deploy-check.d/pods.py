#!/usr/bin/python3
"""Turns the rendered overlay into Pods that `podman kube play` runs on one machine.

Usage: pods.py RENDERED.yaml OUTDIR NAME=KIND/OBJECT[,VAR=VALUE...] ...

For each NAME, the pod template of the Deployment or Job OBJECT becomes the Pod NAME in
OUTDIR/NAME.yaml, with what podman 4.3 does not do itself resolved from the same render:
`envFrom` ConfigMaps and `secretKeyRef`s become plain values (as the kubelet would hand them
to the process), the VAR=VALUE overrides are applied last (each pod its own port), and the
probes are left out (podman turns them into health checks that need a shell; deploy-check
polls readiness itself), and so are the declared ports (on the host's network podman refuses
port mappings). Image, command, arguments, security context, resources, volumes and
host networking are the overlay's own.
"""

import base64
import copy
import os
import sys

import yaml


def main():
    rendered, outdir, *wanted = sys.argv[1:]
    docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    secrets = {}
    for d in docs:
        if d["kind"] == "Secret":
            values = {k: base64.b64decode(v).decode() for k, v in d.get("data", {}).items()}
            values.update(d.get("stringData", {}))
            secrets[d["metadata"]["name"]] = values
    objects = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    os.makedirs(outdir, exist_ok=True)
    for spec in wanted:
        name, rest = spec.split("=", 1)
        source, *overrides = rest.split(",")
        kind, object_name = source.split("/")
        template = copy.deepcopy(objects[(kind, object_name)]["spec"]["template"])
        pod_spec = template["spec"]
        if kind == "Job":
            pod_spec["restartPolicy"] = "Never"
        for container in pod_spec["containers"]:
            env = {}
            for source_ref in container.pop("envFrom", []):
                env.update(configmaps[source_ref["configMapRef"]["name"]])
            for entry in container.get("env", []):
                if "value" in entry:
                    env[entry["name"]] = entry["value"]
                elif "secretKeyRef" in entry.get("valueFrom", {}):
                    ref = entry["valueFrom"]["secretKeyRef"]
                    env[entry["name"]] = secrets[ref["name"]][ref["key"]]
                elif "configMapKeyRef" in entry.get("valueFrom", {}):
                    ref = entry["valueFrom"]["configMapKeyRef"]
                    env[entry["name"]] = configmaps[ref["name"]][ref["key"]]
            for override in overrides:
                key, value = override.split("=", 1)
                env[key] = value
            container["env"] = [{"name": k, "value": str(v)} for k, v in env.items()]
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                container.pop(probe, None)
            # On the host's network a declared port is only a name; podman refuses mappings.
            container.pop("ports", None)
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": template["metadata"].get("labels", {})},
            "spec": pod_spec,
        }
        with open(os.path.join(outdir, f"{name}.yaml"), "w") as out:
            yaml.safe_dump(pod, out, sort_keys=False)


if __name__ == "__main__":
    main()
