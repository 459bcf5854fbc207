"""Sync benchmark peer: the Python kubernetes client's list + watch.Watch over ConfigMaps in one namespace.

Usage: python peer.py <namespace> <objects> <updates>; KUBECONFIG names the cluster.
Prints `ready`, then `synced <n>` after the initial list (pages of 500, as client-go does), then
`done <n>` after <updates> modifications, then waits for stdin to close. The Python client has no
informer: this is the list-then-watch loop its documentation shows.
"""

import sys

from kubernetes import client, config, watch


def main() -> None:
    ns, objects, updates = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    config.load_kube_config()
    v1 = client.CoreV1Api()
    print("ready", flush=True)
    listed, cont, rv = 0, None, None
    while True:
        page = v1.list_namespaced_config_map(ns, limit=500, _continue=cont)
        listed += sum(1 for cm in page.items if cm.metadata.name)
        rv, cont = page.metadata.resource_version, page.metadata._continue
        if not cont:
            break
    print(f"synced {listed}", flush=True)
    if listed != objects:
        print(f"expected {objects} objects, got {listed}", file=sys.stderr)
    modified, names = 0, 0
    w = watch.Watch()
    while modified < updates:
        for event in w.stream(v1.list_namespaced_config_map, ns, resource_version=rv, allow_watch_bookmarks=True):
            obj = event["object"]
            rv = obj.metadata.resource_version
            if event["type"] == "MODIFIED":
                modified += 1
                names += 1 if obj.metadata.name else 0
                if modified == updates:
                    w.stop()
                    break
    print(f"done {modified} {names}", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
