"""Empty the lab's demo project (see reset.sh). Members delete their own resources; admin
steps in only for volumes stuck in a state a member cannot delete (in-use, error_deleting)."""
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


def wait_gone(s, path, key, what, timeout=120):
    deadline = time.time() + timeout
    while True:
        left = s.get(path, **what).json()[key]
        if not left or time.time() > deadline:
            return left
        time.sleep(0.5)


# servers first: they hold ports and volume attachments
servers = demo.get("/servers", **C).json()["servers"]
for srv in servers:
    try:
        demo.delete("/servers/" + srv["id"], **C)
    except exceptions.NotFound:
        pass
left = wait_gone(demo, "/servers", "servers", C)
if left:  # e.g. stuck in a task state: admin force-delete
    for srv in left:
        admin.post("/servers/%s/action" % srv["id"], json={"forceDelete": None}, raise_exc=False, **C)
    left = wait_gone(demo, "/servers", "servers", C, 60)
counts["servers"] = len(servers) - len(left)

ports = [p for p in demo.get("/v2.0/ports", params={"project_id": pid}, **N).json()["ports"]
         if not p["device_owner"].startswith("network:")]
for p in ports:
    demo.delete("/v2.0/ports/" + p["id"], raise_exc=False, **N)
counts["ports"] = len(ports)

snaps = demo.get("/snapshots", **V).json()["snapshots"]
for sn in snaps:
    demo.delete("/snapshots/" + sn["id"], raise_exc=False, **V)
wait_gone(demo, "/snapshots", "snapshots", V, 60)
counts["snapshots"] = len(snaps)

vols = demo.get("/volumes", **V).json()["volumes"]
for vol in vols:
    r = demo.delete("/volumes/" + vol["id"], raise_exc=False, **V)
    if r.status_code == 400:  # in-use / error_deleting / creating: admin resets and force-deletes
        act = "/volumes/%s/action" % vol["id"]
        admin.post(act, json={"os-reset_status": {"status": "available", "attach_status": "detached"}},
                   raise_exc=False, **V)
        admin.post(act, json={"os-force_delete": {}}, raise_exc=False, **V)
left = wait_gone(demo, "/volumes", "volumes", V)
counts["volumes"] = len(vols) - len(left)

images = demo.get("/v2/images", params={"owner": pid, "limit": 1000}, **G).json()["images"]
for img in images:
    if img.get("protected"):
        demo.patch("/v2/images/" + img["id"], json=[{"op": "replace", "path": "/protected", "value": False}],
                   headers={"Content-Type": "application/openstack-images-v2.1-json-patch"}, **G)
    demo.delete("/v2/images/" + img["id"], raise_exc=False, **G)
counts["images"] = len(images)

print("openstack lab reset: deleted " + ", ".join("%d %s" % (v, k) for k, v in counts.items()))
if left:
    sys.exit("openstack lab reset: volumes left: %s" % [v["id"] for v in left])
