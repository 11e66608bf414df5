"""Compute/volume/network part of the lab bootstrap (idempotent): flavors, waiting for the
Nova and Cinder services, host discovery, volume types (lab, and lab-encrypted with an encryption
spec), unlimited quotas for the test projects, the shared networks, and two conversion hosts
(servers in the demo project that v2o "runs on"; the first found through the metadata service).

usage: bootstrap_cloud.py  (reads KS, ADMIN_PW, DEMO_PW, NOVA_MANAGE, METADATA_URL,
       CONVERSION_HOST_FILE, CONVERSION_HOST_NAME, CONVERSION_HOST_2_FILE, CONVERSION_HOST_2_NAME,
       ENCRYPTED_VOLUME_TYPE from the environment)
"""
import json
import os
import shlex
import subprocess
import sys
import time

import requests
from keystoneauth1 import session
from keystoneauth1.identity import v3

env = os.environ
s = session.Session(auth=v3.Password(auth_url=env["KS"] + "/v3", username="admin", password=env["ADMIN_PW"],
                                     project_name="admin", user_domain_id="default", project_domain_id="default"))
C = dict(endpoint_filter={"service_type": "compute", "interface": "public"},
         headers={"OpenStack-API-Version": "compute 2.79"})
V = dict(endpoint_filter={"service_type": "volumev3", "interface": "public"},
         headers={"OpenStack-API-Version": "volume 3.50"})
Q = dict(endpoint_filter={"service_type": "network", "interface": "public"})
K = dict(endpoint_filter={"service_type": "identity", "interface": "public"})

# name, vCPUs, RAM MiB, disk GB. win.* are Windows-sized; win.bfv has disk 0, which Nova
# is for boot-from-volume: Nova's default policy (servers:create:zero_disk_flavor) lets only
# admins boot an image on a 0-disk flavor.
FLAVORS = [("m1.tiny", 1, 512, 1), ("m1.small", 1, 2048, 20), ("m1.medium", 2, 4096, 40),
           ("m1.large", 4, 8192, 80), ("win.small", 2, 4096, 40), ("win.medium", 4, 8192, 80),
           ("win.large", 8, 16384, 120), ("win.bfv", 2, 4096, 0)]
have = {f["name"] for f in s.get("/flavors", params={"is_public": "None"}, **C).json()["flavors"]}
for name, vcpus, ram, disk in FLAVORS:
    if name not in have:
        s.post("/flavors", json={"flavor": {"name": name, "vcpus": vcpus, "ram": ram, "disk": disk}}, **C)

deadline = time.time() + 240


def up(svc_filter):
    return {x["binary"] for x in s.get("/os-services", **svc_filter).json()["services"] if x["state"] == "up"}


while not {"nova-compute", "nova-scheduler", "nova-conductor"} <= up(C):
    if time.time() > deadline:
        sys.exit("nova services did not come up in time")
    time.sleep(0.5)
# Map the compute host into cell1 now: the scheduler's periodic discovery is off by default
# and would otherwise leave "No valid host" until someone runs discover_hosts.
while not s.get("/os-hypervisors", **C).json()["hypervisors"]:
    subprocess.run(shlex.split(env["NOVA_MANAGE"]) + ["cell_v2", "discover_hosts"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if time.time() > deadline:
        sys.exit("nova-compute was not discovered in time")
    time.sleep(0.5)

while not {"cinder-scheduler", "cinder-volume"} <= up(V):
    if time.time() > deadline:
        sys.exit("cinder services did not come up in time")
    time.sleep(0.5)
types = {t["name"] for t in s.get("/types", **V).json()["volume_types"]}
if "lab" not in types:
    s.post("/types", json={"volume_type": {"name": "lab", "description": "file-backed fake driver",
                                           "extra_specs": {"volume_backend_name": "lab"}}}, **V).raise_for_status()
# A type whose volumes are encrypted (Cinder API "Volume type encryption": POST
# /types/{id}/encryption; front-end = Nova's compute host decrypts, as with libvirt and LUKS). With
# the fixed-key manager in cinder.conf, such volumes show encrypted: true; the lab driver makes
# their unwritten blocks read back as noise (py/v2o_lab_cinder.py).
ENC = env["ENCRYPTED_VOLUME_TYPE"]
enc_type = next((t for t in s.get("/types", **V).json()["volume_types"] if t["name"] == ENC), None)
if enc_type is None:
    enc_type = s.post("/types", json={"volume_type": {
        "name": ENC, "description": "LUKS (fixed-key manager): unwritten blocks read back as noise",
        "extra_specs": {"volume_backend_name": "lab"}}}, **V).json()["volume_type"]
if not s.get("/types/%s/encryption" % enc_type["id"], **V).json().get("provider"):
    s.post("/types/%s/encryption" % enc_type["id"], json={"encryption": {
        "provider": "luks", "cipher": "aes-xts-plain64", "key_size": 256, "control_location": "front-end"}},
        **V).raise_for_status()

# No quota limits in the test projects: tests create many servers, volumes and ports, and the
# default Nova quota is 10 instances.
for pname in ("admin", "demo"):
    pid = s.get("/projects", params={"name": pname}, **K).json()["projects"][0]["id"]
    s.put("/os-quota-sets/" + pid, json={"quota_set": {
        "instances": -1, "cores": -1, "ram": -1, "key_pairs": -1, "server_groups": -1,
        "server_group_members": -1, "metadata_items": -1}}, **C).raise_for_status()
    s.put("/os-quota-sets/" + pid, json={"quota_set": {
        "volumes": -1, "gigabytes": -1, "snapshots": -1, "backups": -1, "backup_gigabytes": -1,
        "per_volume_gigabytes": -1}}, **V).raise_for_status()
    s.put("/v2.0/quotas/" + pid, json={"quota": {
        "network": -1, "subnet": -1, "port": -1, "security_group": -1, "security_group_rule": -1}},
        **Q).raise_for_status()

# Shared networks (pure IPAM: no agent, no traffic ever flows). 192.0.2.0/24 is TEST-NET-1,
# 198.51.100.0/24 TEST-NET-2: a second network for multi-NIC mapping. They belong to the demo
# project: Neutron's default policy lets only the network's owner (or admin) create a port with
# a chosen MAC address or fixed IP, which a migration needs to keep the VM's NIC identity.
# The allocation pools start at .100, so the addresses below stay free for the static ones tests
# keep (win2022-static01: 192.0.2.41, .42 and 198.51.100.41); lab-net has the gateway the guest's
# static configuration names (192.0.2.1). A lab that is already up gets its subnets updated.
demo_pid = s.get("/projects", params={"name": "demo"}, **K).json()["projects"][0]["id"]
for net_name, subnet_name, cidr, gateway, pool in (
        ("lab-net", "lab-subnet", "192.0.2.0/24", "192.0.2.1", ("192.0.2.100", "192.0.2.250")),
        ("lab-db-net", "lab-db-subnet", "198.51.100.0/24", None, ("198.51.100.100", "198.51.100.250"))):
    nets = s.get("/v2.0/networks", params={"name": net_name}, **Q).json()["networks"]
    net = nets[0] if nets else s.post("/v2.0/networks", json={"network": {
        "name": net_name, "shared": True, "provider:network_type": "local", "project_id": demo_pid}},
        **Q).json()["network"]
    pools = [{"start": pool[0], "end": pool[1]}]
    subnets = s.get("/v2.0/subnets", params={"network_id": net["id"]}, **Q).json()["subnets"]
    if not subnets:
        s.post("/v2.0/subnets", json={"subnet": {
            "network_id": net["id"], "name": subnet_name, "ip_version": 4, "cidr": cidr,
            "gateway_ip": gateway, "allocation_pools": pools, "enable_dhcp": False, "project_id": demo_pid}},
            **Q).raise_for_status()
        continue
    sub = next((x for x in subnets if x["name"] == subnet_name), subnets[0])
    if sub["allocation_pools"] != pools or sub["gateway_ip"] != gateway:
        # Neutron keeps the addresses ports already have when a pool changes; a gateway another
        # port holds is refused (raised: the lab would be wrong otherwise; reset.sh frees ports).
        r = s.put("/v2.0/subnets/" + sub["id"], json={"subnet": {"gateway_ip": gateway, "allocation_pools": pools}},
                  raise_exc=False, **Q)
        if r.status_code >= 400:
            sys.exit("could not update %s to pool %s-%s, gateway %s: %s %s"
                     % (subnet_name, pool[0], pool[1], gateway, r.status_code, r.text))
# The conversion hosts: the servers v2o runs on when it writes volumes itself (issue 14), two of
# them for a fleet (issue 15: `v2o reassign` moves a warm run's volumes from a lost host to
# another). They live in the demo project (v2o's project), ACTIVE on the fake driver, no NIC (none
# is needed to reach the lab's APIs, and the pools stay the tests'). Their image belongs to admin
# with visibility community: usable by demo, but not in demo's image list, and reset.sh does not
# delete it. The first is the one the metadata service answers for (v2o_lab_metadata_proxy.py).
demo = session.Session(auth=v3.Password(auth_url=env["KS"] + "/v3", username="demo", password=env["DEMO_PW"],
                                        project_name="demo", user_domain_id="default", project_domain_id="default"))
HOSTS = [(env["CONVERSION_HOST_NAME"], env["CONVERSION_HOST_FILE"]),
         (env["CONVERSION_HOST_2_NAME"], env["CONVERSION_HOST_2_FILE"])]
CH = HOSTS[0][0]
G = dict(endpoint_filter={"service_type": "image", "interface": "public"})
imgs = s.get("/v2/images", params={"name": CH, "visibility": "community"}, **G).json()["images"]
img = next((i for i in imgs if i["status"] == "active"), None)
if img is None:
    img = s.post("/v2/images", json={"name": CH, "disk_format": "raw", "container_format": "bare",
                                     "visibility": "community"}, **G).json()
    s.put("/v2/images/%s/file" % img["id"], data=b"\0" * (1 << 20),
          headers={"Content-Type": "application/octet-stream"}, **G).raise_for_status()
tiny = next(f for f in s.get("/flavors", **C).json()["flavors"] if f["name"] == "m1.tiny")


def conversion_host(name):
    for srv in demo.get("/servers/detail", params={"name": "^%s$" % name}, **C).json()["servers"]:
        if srv["status"] == "ERROR":
            demo.delete("/servers/" + srv["id"], **C)
            continue
        return srv
    return demo.post("/servers", json={"server": {"name": name, "imageRef": img["id"], "flavorRef": tiny["id"],
                                                  "networks": "none"}}, **C).json()["server"]


def active(srv):
    deadline = time.time() + 120
    while True:
        srv = demo.get("/servers/" + srv["id"], **C).json()["server"]
        if srv["status"] == "ACTIVE":
            return srv
        if srv["status"] == "ERROR" or time.time() > deadline:
            sys.exit("conversion host %s did not become ACTIVE: %s %s" % (srv["id"], srv["status"], srv.get("fault")))
        time.sleep(0.5)


servers = [conversion_host(name) for name, _ in HOSTS]  # both requested, then both awaited
for (name, path), srv in zip(HOSTS, servers):
    srv = active(srv)
    with open(path + ".tmp", "w") as f:
        json.dump({"id": srv["id"], "name": name, "project_id": srv["tenant_id"]}, f)
    os.replace(path + ".tmp", path)
srv = servers[0]
# the metadata service must name it (through the lab's metadata proxy and Nova's metadata API)
deadline = time.time() + 60
while True:
    try:
        r = requests.get(env["METADATA_URL"], timeout=10)
        if r.status_code == 200 and r.json().get("uuid") == srv["id"]:
            break
        why = "%s %s" % (r.status_code, r.text[:300])
    except (requests.RequestException, ValueError) as e:
        why = str(e)
    if time.time() > deadline:
        sys.exit("metadata service %s does not name the conversion host: %s" % (env["METADATA_URL"], why))
    time.sleep(0.5)
print("cloud bootstrap ok")
