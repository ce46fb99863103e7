#!/usr/bin/env python3
"""Offline checks of the deployment files (no Docker engine, no cluster).

- docker/docker-compose.yml: `docker-compose config` accepts it, and the
  agent runs on the host network with exactly NET_ADMIN and NET_RAW.
- deploy/kubernetes/vrrp_exporter.yaml: a DaemonSet on the host network with
  those capabilities, liveness /-/healthy, readiness /-/ready, Prometheus
  scrape annotations matching the port, and a ConfigMap whose config.yml
  passes `vrrp_exporter --config.check`.
- docker/config.yml.example passes --config.check; docker/prometheus.yml
  passes `promtool check config`.
Exits non-zero with every failure listed.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def run(argv, cwd=None):
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", required=True)
    parser.add_argument("--exporter", required=True)
    args = parser.parse_args()
    src = args.source
    for tool in ("docker-compose", "promtool"):
        if shutil.which(tool) is None:
            print(f"{tool} not found: run scripts/install-deps.sh",
                  file=sys.stderr)
            return 1

    # --- docker-compose ------------------------------------------------
    compose = os.path.join(src, "docker", "docker-compose.yml")
    result = run(["docker-compose", "-f", compose, "config"])
    check(result.returncode == 0,
          f"docker-compose config rejects {compose}:\n{result.stderr}")
    if result.returncode == 0:
        resolved = yaml.safe_load(result.stdout)
        services = resolved.get("services", {})
        check(set(services) == {"vrrp_exporter", "prometheus", "grafana"},
              f"compose services: {sorted(services)}")
        agent = services.get("vrrp_exporter", {})
        check(agent.get("network_mode") == "host",
              "the agent must use the host network")
        check(agent.get("cap_drop") == ["ALL"], "the agent must drop ALL")
        check(sorted(agent.get("cap_add", [])) == ["NET_ADMIN", "NET_RAW", "SYS_NICE"],
              f"agent capabilities: {agent.get('cap_add')}")
        check(agent.get("build", {}).get("dockerfile") == "docker/Dockerfile",
              "the agent is built from docker/Dockerfile")
    dockerfile = open(os.path.join(src, "docker", "Dockerfile")).read()
    check("FROM debian:12 AS build" in dockerfile and
          "FROM debian:12-slim" in dockerfile,
          "Dockerfile: Debian 12, multi-stage")

    # --- Kubernetes -----------------------------------------------------
    manifest = os.path.join(src, "deploy", "kubernetes", "vrrp_exporter.yaml")
    docs = {d["kind"]: d for d in yaml.safe_load_all(open(manifest)) if d}
    check({"Namespace", "ConfigMap", "DaemonSet"} <= set(docs),
          f"kinds in {manifest}: {sorted(docs)}")
    ds = docs.get("DaemonSet", {})
    pod = ds.get("spec", {}).get("template", {})
    spec = pod.get("spec", {})
    check(spec.get("hostNetwork") is True, "DaemonSet: hostNetwork: true")
    containers = spec.get("containers", [])
    check(len(containers) == 1, "DaemonSet: one container")
    c = containers[0] if containers else {}
    caps = c.get("securityContext", {}).get("capabilities", {})
    check(caps.get("drop") == ["ALL"], "DaemonSet: drop ALL capabilities")
    check(sorted(caps.get("add", [])) == ["NET_ADMIN", "NET_RAW", "SYS_NICE"],
          f"DaemonSet capabilities: {caps.get('add')}")
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    check(ports.get("metrics") == 9687, f"DaemonSet ports: {ports}")
    # Probes go to the health listener (issue 14): stalled clients on the
    # metrics port must not fail them.
    check(ports.get("health") == 9688 and
          "--web.health-listen-address=:9688" in c.get("args", []),
          f"DaemonSet health listener: {ports}, {c.get('args')}")
    for probe, path in (("livenessProbe", "/-/healthy"),
                        ("readinessProbe", "/-/ready")):
        get = c.get(probe, {}).get("httpGet", {})
        check(get.get("path") == path and get.get("port") in ("health", 9688),
              f"DaemonSet {probe}: {get}")
    notes = pod.get("metadata", {}).get("annotations", {})
    check(notes.get("prometheus.io/scrape") == "true" and
          notes.get("prometheus.io/port") == "9687" and
          notes.get("prometheus.io/path") == "/metrics",
          f"DaemonSet scrape annotations: {notes}")
    check("--config.file=/etc/vrrp_exporter/config.yml" in c.get("args", []),
          "DaemonSet: --config.file points at the ConfigMap mount")
    mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
    check(mounts.get("config") == "/etc/vrrp_exporter",
          f"DaemonSet mounts: {mounts}")

    with tempfile.TemporaryDirectory() as tmp:
        configs = {
            "ConfigMap config.yml":
                docs.get("ConfigMap", {}).get("data", {}).get("config.yml", ""),
            "docker/config.yml.example":
                open(os.path.join(src, "docker", "config.yml.example")).read(),
        }
        for name, text in configs.items():
            path = os.path.join(tmp, "config.yml")
            with open(path, "w") as f:
                f.write(text)
            result = run([args.exporter, "--config.check", path])
            check(result.returncode == 0,
                  f"{name} fails --config.check:\n{result.stderr}")

    result = run(["promtool", "check", "config",
                  os.path.join(src, "docker", "prometheus.yml")])
    check(result.returncode == 0,
          f"promtool rejects docker/prometheus.yml:\n{result.stdout}"
          f"{result.stderr}")

    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    if not failures:
        print("deployment files: OK")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
