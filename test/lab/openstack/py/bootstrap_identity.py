"""Keystone part of the lab bootstrap (idempotent): roles, projects admin/demo/service,
users admin/demo and one service user per service, catalog endpoints on 127.0.0.1.

usage: bootstrap_identity.py  (reads KS, ADMIN_PW, DEMO_PW, SVC_PW, H and *_PORT from the environment)
"""
import os

from keystoneauth1 import session
from keystoneauth1.identity import v3

env = os.environ
ks, h = env["KS"], env["H"]
s = session.Session(auth=v3.Password(auth_url=ks + "/v3", username="admin", password=env["ADMIN_PW"],
                                     project_name="admin", user_domain_id="default", project_domain_id="default"))
E = dict(endpoint_filter={"service_type": "identity", "interface": "public"})


def one(path, key, **q):
    r = s.get(path, params=q, **E).json()[key]
    return r[0] if r else None


def ensure(path, key, body, **q):
    return one(path, key, **q) or s.post(path, json={key[:-1]: body}, **E).json()[key[:-1]]


def role(name):
    return ensure("/roles", "roles", {"name": name}, name=name)


def project(name, description):
    return ensure("/projects", "projects", {"name": name, "domain_id": "default", "description": description},
                  name=name)


def user(name, pw, proj):
    u = one("/users", "users", name=name)
    if u:  # keep the password in step with secrets.env
        s.patch("/users/" + u["id"], json={"user": {"password": pw}}, **E)
        return u
    return s.post("/users", json={"user": {"name": name, "password": pw, "domain_id": "default",
                                           "default_project_id": proj["id"]}}, **E).json()["user"]


def grant(p, u, r):
    s.put("/projects/%s/users/%s/roles/%s" % (p["id"], u["id"], r["id"]), **E)


admin_r, member_r, reader_r, service_r = role("admin"), role("member"), role("reader"), role("service")
svc = project("service", "OpenStack service users")
demo = project("demo", "v2o tests: the migration target project")
grant(demo, one("/users", "users", name="admin"), admin_r)
for n in ("glance", "nova", "placement", "cinder", "neutron"):
    u = user(n, env["SVC_PW"], svc)
    grant(svc, u, admin_r)
    # Cinder (OSSA-2023-003 fix) only lets Nova delete in-use attachments when the call carries
    # a service token of a user with the "service" role.
    grant(svc, u, service_r)
d = user("demo", env["DEMO_PW"], demo)
grant(demo, d, member_r)
grant(demo, d, reader_r)

svcs = [("glance", "image", "http://%s:%s" % (h, env["GLANCE_PORT"])),
        ("placement", "placement", "http://%s:%s" % (h, env["PLACEMENT_PORT"])),
        ("nova", "compute", "http://%s:%s/v2.1" % (h, env["NOVA_PORT"])),
        ("neutron", "network", "http://%s:%s" % (h, env["NEUTRON_PORT"])),
        ("cinderv3", "volumev3", "http://%s:%s/v3/%%(project_id)s" % (h, env["CINDER_PORT"])),
        ("cinder", "block-storage", "http://%s:%s/v3/%%(project_id)s" % (h, env["CINDER_PORT"]))]
for name, typ, url in svcs:
    sv = ensure("/services", "services", {"name": name, "type": typ}, type=typ)
    have = {e["interface"]: e for e in s.get("/endpoints", params={"service_id": sv["id"]}, **E).json()["endpoints"]}
    for itf in ("public", "internal", "admin"):
        if itf in have and have[itf]["url"] == url:
            continue
        if itf in have:
            s.delete("/endpoints/" + have[itf]["id"], **E)
        s.post("/endpoints", json={"endpoint": {"service_id": sv["id"], "interface": itf, "url": url,
                                                "region_id": "RegionOne"}}, **E)
print("keystone bootstrap ok")
