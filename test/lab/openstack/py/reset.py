"""Empty the lab's demo project, or only what is named with RESET_PREFIX (see reset.sh).
Members delete their own resources; admin steps in only for servers and volumes stuck in a
state a member cannot delete (task states, in-use, error_deleting). The conversion hosts
(CONVERSION_HOST_FILE, CONVERSION_HOST_2_FILE, made by the bootstrap) are kept; volumes attached
to them are detached through Nova first, so their attachments stay consistent."""
import json
import os
import sys
import time
from urllib.parse import urlparse

from keystoneauth1 import exceptions, session
from keystoneauth1.identity import v3

ks = os.environ["KS"]
if urlparse(ks).hostname not in ("127.0.0.1", "localhost", "::1"):
    sys.exit("openstack lab reset: refusing: %s is not a loopback lab" % ks)


def sess(user, pw, project):
    return session.Session(auth=v3.Password(auth_url=ks + "/v3", username=user, password=pw, project_name=project,
                                            user_domain_id="default", project_domain_id="default"))


demo = sess("demo", os.environ["DEMO_PW"], "demo")
admin = sess("admin", os.environ["ADMIN_PW"], "admin")
pid = demo.get_project_id()


def ep(t, **kw):
    return dict(endpoint_filter={"service_type": t, "interface": "public"}, **kw)


C = ep("compute", headers={"OpenStack-API-Version": "compute 2.79"})
V = ep("volumev3", headers={"OpenStack-API-Version": "volume 3.50"})
N, G = ep("network"), ep("image")
counts = {}
prefix = os.environ.get("RESET_PREFIX", "")


keep_servers = set()
for var in ("CONVERSION_HOST_FILE", "CONVERSION_HOST_2_FILE"):
    try:
        with open(os.environ.get(var, "")) as f:
            keep_servers.add(json.load(f)["id"])
    except (OSError, ValueError, KeyError):
        pass


def mine(r):
    return (r.get("name") or "").startswith(prefix)


def wait_gone(path, key, what, ids, timeout=120):
    """Wait until none of ids is listed any more; return those still listed."""
    deadline = time.time() + timeout
    while True:
        left = [x for x in demo.get(path, **what).json()[key] if x["id"] in ids]
        if not left or time.time() > deadline:
            return left
        time.sleep(0.5)


# servers first: they hold ports and volume attachments
servers = [x for x in demo.get("/servers", **C).json()["servers"] if mine(x) and x["id"] not in keep_servers]
server_ids = {x["id"] for x in servers}
# listed now: deleting a server unbinds the ports it was given and clears their device_id
ports = [p for p in demo.get("/v2.0/ports", params={"project_id": pid}, **N).json()["ports"]
         if not p["device_owner"].startswith("network:") and (mine(p) or p["device_id"] in server_ids)]
for srv in servers:
    try:
        demo.delete("/servers/" + srv["id"], **C)
    except exceptions.NotFound:
        pass
left = wait_gone("/servers", "servers", C, server_ids)
if left:  # e.g. stuck in a task state: admin force-delete
    for srv in left:
        admin.post("/servers/%s/action" % srv["id"], json={"forceDelete": None}, raise_exc=False, **C)
    left = wait_gone("/servers", "servers", C, server_ids, 60)
counts["servers"] = len(servers) - len(left)

for p in ports:
    demo.delete("/v2.0/ports/" + p["id"], raise_exc=False, **N)
counts["ports"] = len(ports)

snaps = [x for x in demo.get("/snapshots/detail", **V).json()["snapshots"] if mine(x)]
for sn in snaps:
    demo.delete("/snapshots/" + sn["id"], raise_exc=False, **V)
wait_gone("/snapshots", "snapshots", V, {x["id"] for x in snaps}, 60)
counts["snapshots"] = len(snaps)

vols = [x for x in demo.get("/volumes/detail", **V).json()["volumes"] if mine(x)]
vol_ids = {x["id"] for x in vols}
# attached to a server that stays (the conversion host): detach as Nova does (DELETE
# os-volume_attachments), so Nova's block device mapping goes with Cinder's attachment
detaching = set()
for vol in vols:
    for a in vol.get("attachments") or []:
        if a.get("server_id") and a["server_id"] not in server_ids:
            demo.delete("/servers/%s/os-volume_attachments/%s" % (a["server_id"], vol["id"]), raise_exc=False, **C)
            detaching.add(vol["id"])
deadline = time.time() + 60
while detaching and time.time() < deadline:
    detaching = {v for v in detaching if demo.get("/volumes/" + v, **V).json()["volume"]["status"] != "available"}
    time.sleep(0.5)
for vol in vols:
    r = demo.delete("/volumes/" + vol["id"], raise_exc=False, **V)
    if r.status_code == 400:  # in-use / error_deleting / creating: admin resets and force-deletes
        act = "/volumes/%s/action" % vol["id"]
        admin.post(act, json={"os-reset_status": {"status": "available", "attach_status": "detached"}},
                   raise_exc=False, **V)
        admin.post(act, json={"os-force_delete": {}}, raise_exc=False, **V)
left = wait_gone("/volumes", "volumes", V, vol_ids)
counts["volumes"] = len(vols) - len(left)

images = [x for x in demo.get("/v2/images", params={"owner": pid, "limit": 1000}, **G).json()["images"] if mine(x)]
for img in images:
    if img.get("protected"):
        demo.patch("/v2/images/" + img["id"], json=[{"op": "replace", "path": "/protected", "value": False}],
                   headers={"Content-Type": "application/openstack-images-v2.1-json-patch"}, **G)
    demo.delete("/v2/images/" + img["id"], raise_exc=False, **G)
counts["images"] = len(images)

print("openstack lab reset: deleted " + ", ".join("%d %s" % (v, k) for k, v in counts.items()))
if left:
    sys.exit("openstack lab reset: volumes left: %s" % [v["id"] for v in left])
