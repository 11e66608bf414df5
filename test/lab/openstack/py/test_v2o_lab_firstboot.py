"""Unit tests of the lab's first-boot replay (v2o_lab_firstboot.py); no Nova needed.

    cd test/lab/openstack/py && python3 -m unittest -v test_v2o_lab_firstboot

(run by test/unit/lab/nova-firstboot.test.ts in `npm run test:unit`). The guest model is
win2022-static01's (issue 13 section 3, contract section B), as the vSphere lab writes it into
the boot disk's state; the instance has the two ports v2o creates for it.
"""
import copy
import json
import unittest

import v2o_lab_firstboot as fb

INSTANCE = "6F1C3A52-8D0B-4C55-9A0E-1D2B3C4D5E6F"
SOURCE_UUID = "4213a1b2-0c3d-4e5f-8a9b-0c1d2e3f4a5b"
MSI = "C:\\ProgramData\\v2o\\qemu-ga-x86_64.msi"
E_GUID = "\\\\?\\Volume{8d1e5c3a-0b7f-4e2a-9c61-5f3e2d1a0b9c}\\"
C_GUID = "\\\\?\\Volume{1a2b3c4d-0000-4000-8000-000000000001}\\"
VMXNET3 = "PCI\\VEN_15AD&DEV_07B0&SUBSYS_07B015AD&REV_01\\FF565000A1300100"
E1000E = "PCI\\VEN_8086&DEV_10D3&SUBSYS_07D015AD&REV_00\\000C29FFFF1B2C3D00"
OLD_VMXNET3 = "PCI\\VEN_15AD&DEV_07B0&SUBSYS_07B015AD&REV_01\\FF565000A1200100"
CV = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"


def drv(inf):
    return {"publishedName": "oem%d.inf" % len(inf), "originalName": inf, "provider": "Red Hat, Inc."}


def adapter(**kw):
    a = {"present": True, "status": "Up", "dhcp": False, "ipv4": [], "ipv6": [], "gateways": [], "routes": [],
         "dnsServers": [], "registerInDns": True, "mtu": 1500, "vlanId": 0}
    a.update(kw)
    return a


def static01():
    """win2022-static01 as it arrives on the boot disk."""
    return {
        "version": 1, "vm": "win2022-static01", "firmware": "bios",
        "seed": {"os": "2k22", "windowsVersion": "10.0.20348", "hostName": "WIN2022-STATIC01", "tools": "running"},
        "registry": {CV + "\\CurrentBuild": {"type": "REG_SZ", "data": "20348"}},
        "files": {MSI: {"size": 10, "sha256": "00"}},
        "drivers": [drv("viostor.inf"), drv("netkvm.inf"), drv("vioser.inf")],
        "tasks": [{"name": "\\v2o-firstboot"}],
        "network": {"adapters": [
            adapter(name="Prod LAN", description="vmxnet3 Ethernet Adapter", driver="vmxnet3",
                    mac="00:50:56:a1:30:01", guid="{11111111-1111-1111-1111-111111111111}", ifIndex=4,
                    instanceId=VMXNET3,
                    ipv4=[{"address": "192.0.2.41", "prefixLength": 24}, {"address": "192.0.2.42", "prefixLength": 24}],
                    gateways=[{"nextHop": "192.0.2.1", "metric": 256}],
                    routes=[{"destination": "203.0.113.0/24", "nextHop": "192.0.2.254", "metric": 256}],
                    dnsServers=["192.0.2.53", "192.0.2.54"], dnsSuffix="corp.example",
                    category="DomainAuthenticated"),
            adapter(name="Backup", description="Intel(R) 82574L Gigabit Network Connection", driver="e1000e",
                    mac="00:50:56:a1:30:02", guid="{22222222-2222-2222-2222-222222222222}", ifIndex=6,
                    instanceId=E1000E, ipv4=[{"address": "198.51.100.41", "prefixLength": 24}],
                    registerInDns=False, category="Private"),
            adapter(name="Ethernet1", description="vmxnet3 Ethernet Adapter #2", driver="vmxnet3",
                    mac="00:50:56:a1:20:01", guid="{33333333-3333-3333-3333-333333333333}", ifIndex=3,
                    instanceId=OLD_VMXNET3, present=False, status="Unknown",
                    ipv4=[{"address": "192.0.2.41", "prefixLength": 24}], category="Private"),
        ], "teams": []},
        "disks": [
            {"number": 0, "online": True, "system": True, "boot": True, "partitionStyle": "MBR", "sizeBytes": 1 << 35,
             "dynamic": False, "volumes": [{"guid": C_GUID, "driveLetter": "C", "label": "", "fileSystem": "NTFS",
                                            "sizeBytes": 1 << 35, "freeBytes": 1 << 34}]},
            {"number": 1, "online": True, "system": False, "boot": False, "partitionStyle": "GPT", "sizeBytes": 1 << 30,
             "dynamic": False, "volumes": [{"guid": E_GUID, "driveLetter": "E", "label": "Data", "fileSystem": "NTFS",
                                            "sizeBytes": 1 << 30, "freeBytes": 1 << 29}]},
        ],
        "bitlocker": [], "languageMode": "FullLanguage", "domainRole": 3, "partOfDomain": True,
        "domain": "corp.example", "smbiosUuid": SOURCE_UUID, "manufacturer": "VMware, Inc.",
        "vmwareTools": True, "guestAgent": False,
    }


def vif(mac, cidr, *ips, dhcp=None):
    meta = {"dhcp_server": dhcp} if dhcp else {}
    return {"id": "port-" + mac[-2:], "address": mac, "network": {
        "id": "net", "label": "lab", "meta": {"mtu": 1500},
        "subnets": [{"cidr": cidr, "gateway": {"address": cidr.rsplit(".", 1)[0] + ".1"}, "dns": [],
                     "meta": meta, "ips": [{"address": ip, "type": "fixed"} for ip in ips]}]}}


NETWORK_INFO = [vif("00:50:56:a1:30:01", "192.0.2.0/24", "192.0.2.41", "192.0.2.42"),
                vif("00:50:56:a1:30:02", "198.51.100.0/24", "198.51.100.41")]
PROD = {"match": {"mac": "00:50:56:a1:30:01", "order": 0}, "name": "Prod LAN", "dhcp": False,
        "ipv4": [{"address": "192.0.2.41", "prefixLength": 24}, {"address": "192.0.2.42", "prefixLength": 24}],
        "ipv6": [], "gateways": [{"nextHop": "192.0.2.1", "metric": 256}],
        "routes": [{"destination": "203.0.113.0/24", "nextHop": "192.0.2.254", "metric": 256}],
        "dnsServers": ["192.0.2.53", "192.0.2.54"], "dnsSuffix": "corp.example", "registerInDns": True,
        "mtu": 1500, "category": "DomainAuthenticated"}
BACKUP = {"match": {"mac": "00:50:56:a1:30:02", "order": 1}, "name": "Backup", "dhcp": False,
          "ipv4": [{"address": "198.51.100.41", "prefixLength": 24}], "ipv6": [], "gateways": [], "routes": [],
          "dnsServers": [], "registerInDns": False, "mtu": 1500, "category": "Private"}


def config(**kw):
    c = {"version": 2, "runId": "run-1", "expectBus": "virtio", "sourceUuid": SOURCE_UUID,
         "network": {"removeGhosts": {"mechanism": "pnputil",
                                      "descriptions": ["vmxnet3 Ethernet Adapter",
                                                       "Intel(R) 82574L Gigabit Network Connection"]},
                     "adapters": [copy.deepcopy(PROD), copy.deepcopy(BACKUP)]},
         "disks": {"sanPolicy": "OnlineAll", "online": True, "letters": [{"volumeGuid": E_GUID, "driveLetter": "E"}]},
         "guestAgent": {"msi": MSI}, "removeVmwareTools": False}
    c.update(kw)
    return c


def run(state=None, cfg=None, **kw):
    args = dict(network_info=NETWORK_INFO, vif_model="virtio", data_volumes=["vol-data-1"], qemu_guest_agent=True)
    args.update(kw)
    return fb.replay(state or static01(), cfg or config(), INSTANCE, **args)


def failed(r, action=None):
    return [f for f in r["result"]["failed"] if action is None or f["action"] == action]


class HappyReplay(unittest.TestCase):
    def test_win2022_static01(self):
        r = run()
        res = r["result"]
        self.assertEqual(res["failed"], [])
        self.assertEqual(res["boot"], 1)
        prod, backup = res["adapters"]
        self.assertEqual(prod, {
            "name": "Prod LAN", "mac": "00:50:56:a1:30:01", "dhcp": False,
            "ipv4": [{"address": "192.0.2.41", "prefixLength": 24}, {"address": "192.0.2.42", "prefixLength": 24}],
            "ipv6": [], "gateways": [{"nextHop": "192.0.2.1", "metric": 256}],
            "routes": [{"destination": "203.0.113.0/24", "nextHop": "192.0.2.254", "metric": 256}],
            "dnsServers": ["192.0.2.53", "192.0.2.54"], "dnsSuffix": "corp.example",
            "category": "DomainAuthenticated"})
        self.assertEqual(backup["name"], "Backup")
        self.assertEqual(backup["ipv4"], [{"address": "198.51.100.41", "prefixLength": 24}])
        self.assertEqual(backup["category"], "Private")
        self.assertNotIn("dnsSuffix", backup)
        # the old ghost and both VMware adapters that went non-present at this boot
        self.assertEqual(sorted(res["ghostsRemoved"]), sorted([VMXNET3, E1000E, OLD_VMXNET3]))
        self.assertEqual(res["sanPolicy"], "OnlineAll")
        self.assertEqual(res["disks"], [{"number": 0, "online": True, "letters": ["C"]},
                                        {"number": 1, "online": True, "letters": ["E"]}])
        self.assertEqual(res["guestAgent"], "installed")
        self.assertEqual(res["vmwareTools"], "kept")
        # the adapters are the new NetKVM devices, the model says so
        present = [a for a in r["model"]["network"]["adapters"] if a["present"]]
        self.assertEqual({a["description"] for a in present}, {"Red Hat VirtIO Ethernet Adapter",
                                                               "Red Hat VirtIO Ethernet Adapter #2"})
        self.assertIn("renamed Ethernet to Prod LAN", r["lines"])
        self.assertIn("E: mounted " + E_GUID, r["lines"])
        # what the new hardware did is the lab's, not the task's: nova-boot.log, not the console
        self.assertTrue(any("Prod LAN (vmxnet3 Ethernet Adapter) is no longer present" in ln for ln in r["hardware"]))
        self.assertFalse(any("no longer present" in ln for ln in r["lines"]))

    def test_marker_line_carries_the_result(self):
        res = run()["result"]
        line = fb.marker_line("run-1", INSTANCE, "WIN2022-STATIC01", "20348", "virtio", "2026-12-02T01:00:00Z", res)
        self.assertTrue(line.startswith("v2o-firstboot: {") and line.endswith("}\r\n"))
        j = json.loads(line[len("v2o-firstboot: "):])
        self.assertEqual(list(j), ["runId", "uuid", "hostname", "osBuild", "bus", "time", "result"])
        self.assertEqual(j["uuid"], INSTANCE.lower())
        self.assertEqual(j["result"], res)
        self.assertTrue(all(x.startswith("v2o-firstboot-log: ") for x in fb.log_text(["a", "b"]).split("\r\n")[:2]))

    def test_version_1_marker_is_unchanged(self):
        line = fb.marker_line("r", "ABC", "H", "17763", "virtio", "T")
        self.assertEqual(line, 'v2o-firstboot: {"runId":"r","uuid":"abc","hostname":"H","osBuild":"17763",'
                               '"bus":"virtio","time":"T"}\r\n')

    def test_result_is_read_back_not_echoed(self):
        # the config asks for Private on the domain's network: the report says what Windows shows
        cfg = config()
        cfg["network"]["adapters"][0]["category"] = "Private"
        res = run(cfg=cfg)["result"]
        # NLA wins over Private on the domain network (DNS suffix of the domain, DNS servers)
        self.assertEqual(res["adapters"][0]["category"], "DomainAuthenticated")

    def test_does_nothing_on_the_source(self):
        self.assertIsNone(fb.replay(static01(), config(), SOURCE_UUID.upper(), network_info=NETWORK_INFO))
        self.assertIsNone(fb.replay(static01(), config(), INSTANCE, manufacturer="VMware, Inc."))


class Failures(unittest.TestCase):
    def test_ghost_not_removed_then_rename_fails(self):
        cfg = config()
        cfg["network"]["removeGhosts"]["descriptions"] = ["Intel(R) 82574L Gigabit Network Connection"]
        r = run(cfg=cfg)
        self.assertEqual([(f["action"], f["target"]) for f in failed(r)], [("rename", "Prod LAN")])
        self.assertIn("{Object Exists}", failed(r)[0]["message"])
        prod = r["result"]["adapters"][0]
        # the name stays Windows' own, the static configuration still went onto the adapter
        self.assertEqual(prod["name"], "Ethernet")
        self.assertEqual(prod["ipv4"][0]["address"], "192.0.2.41")
        self.assertEqual(r["result"]["adapters"][1]["name"], "Backup")

    def test_new_adapter_names_skip_ghost_names(self):
        s = static01()
        s["network"]["adapters"][2]["name"] = "Ethernet"
        r = run(state=s, cfg=config(network=None))
        self.assertEqual([a["name"] for a in r["result"]["adapters"]], ["Ethernet 2", "Ethernet 3"])

    def test_pnputil_on_2012_r2_fails(self):
        s = static01()
        s["seed"]["os"] = "2k12R2"
        s["registry"][CV + "\\CurrentBuild"]["data"] = "9600"
        r = run(state=s)
        ghosts = failed(r, "removeGhosts")
        self.assertEqual(len(ghosts), 3)
        self.assertIn("pnputil /remove-device does not exist before Windows 10 2004", ghosts[0]["message"])
        self.assertEqual(r["result"]["ghostsRemoved"], [])
        self.assertEqual({f["target"] for f in failed(r, "rename")}, {"Prod LAN", "Backup"})

    def test_setupapi_works_on_2012_r2_but_not_in_constrained_language(self):
        s = static01()
        s["registry"][CV + "\\CurrentBuild"]["data"] = "9600"
        cfg = config()
        cfg["network"]["removeGhosts"]["mechanism"] = "setupapi"
        self.assertEqual(run(state=s, cfg=cfg)["result"]["failed"], [])
        s["languageMode"] = "ConstrainedLanguage"
        r = run(state=s, cfg=cfg)
        self.assertEqual(len(failed(r, "removeGhosts")), 3)
        self.assertIn("Add-Type", failed(r, "removeGhosts")[0]["message"])

    def test_netkvm_not_staged_no_adapter(self):
        s = static01()
        s["drivers"] = [d for d in s["drivers"] if d["originalName"] != "netkvm.inf"]
        r = run(state=s)
        self.assertEqual(r["result"]["adapters"], [])
        self.assertEqual([(f["action"], f["target"]) for f in failed(r, "adapter")],
                         [("adapter", "Prod LAN"), ("adapter", "Backup")])
        self.assertIn("00-50-56-A1-30-01", failed(r, "adapter")[0]["message"])

    def test_e1000_needs_no_staged_driver(self):
        s = static01()
        s["drivers"] = []
        r = run(state=s, vif_model="e1000")
        self.assertEqual([a["name"] for a in r["result"]["adapters"]], ["Prod LAN", "Backup"])
        present = [a for a in r["model"]["network"]["adapters"] if a["present"]]
        self.assertEqual(present[0]["description"], "Intel(R) PRO/1000 MT Desktop Adapter")

    def test_san_policy_offline_shared_without_disks_action(self):
        r = run(cfg=config(disks=None))
        self.assertEqual(r["result"]["sanPolicy"], "OfflineShared")  # unset: Windows Server's default
        self.assertEqual(r["result"]["disks"][1], {"number": 1, "online": False, "letters": []})
        self.assertEqual(failed(r), [])

    def test_san_policy_online_all_brings_disk_online_without_letter(self):
        s = static01()
        s["registry"][fb.PARTMGR + "\\SanPolicy"] = {"type": "REG_DWORD", "data": 1}
        r = run(state=s, cfg=config(disks=None))
        self.assertEqual(r["result"]["disks"][1], {"number": 1, "online": True, "letters": []})

    def test_letter_on_an_offline_disk_fails(self):
        cfg = config()
        cfg["disks"]["online"] = False
        cfg["disks"]["sanPolicy"] = "OnlineAll"
        r = run(cfg=cfg)
        self.assertEqual([(f["action"], f["target"]) for f in failed(r)], [("letters", "E:")])
        self.assertIn("offline", failed(r)[0]["message"])
        self.assertEqual(r["result"]["sanPolicy"], "OnlineAll")

    def test_disk_not_attached_letter_fails(self):
        r = run(data_volumes=[])
        self.assertEqual([(f["action"], f["target"]) for f in failed(r)], [("letters", "E:")])
        self.assertEqual(r["result"]["disks"], [{"number": 0, "online": True, "letters": ["C"]}])

    def test_guest_agent_without_vioserial(self):
        s = static01()
        s["drivers"] = [d for d in s["drivers"] if d["originalName"] != "vioser.inf"]
        r = run(state=s)
        self.assertEqual(r["result"]["guestAgent"], "failed")
        self.assertEqual([f["action"] for f in failed(r)], ["guestAgent"])
        self.assertIn("vioser.inf", failed(r)[0]["message"])

    def test_guest_agent_without_msi(self):
        s = static01()
        s["files"] = {}
        r = run(state=s)
        self.assertEqual(r["result"]["guestAgent"], "failed")
        self.assertIn("1619", failed(r, "guestAgent")[0]["message"])

    def test_static_address_held_by_a_present_adapter(self):
        cfg = config()
        cfg["network"]["adapters"][1]["ipv4"] = [{"address": "192.0.2.42", "prefixLength": 24}]
        r = run(cfg=cfg)
        self.assertEqual([(f["action"], f["target"]) for f in failed(r)], [("static", "Backup")])
        self.assertEqual(r["result"]["adapters"][1]["ipv4"], [])

    def test_removes_vmware_tools_when_asked(self):
        self.assertEqual(run(cfg=config(removeVmwareTools=True))["result"]["vmwareTools"], "removed")


class Hardware(unittest.TestCase):
    def test_dhcp_without_a_server_is_apipa(self):
        r = run(cfg=config(network=None, disks=None, guestAgent=None))
        a = r["result"]["adapters"][0]
        self.assertTrue(a["dhcp"])
        self.assertTrue(a["ipv4"][0]["address"].startswith("169.254."))
        self.assertEqual(a["ipv4"][0]["prefixLength"], 16)
        self.assertEqual(a["category"], "Public")

    def test_dhcp_with_a_server_gets_the_port_address(self):
        ni = [vif("fa:16:3e:00:00:01", "192.0.2.0/24", "192.0.2.100", dhcp="192.0.2.2")]
        a = run(cfg=config(network=None), network_info=ni)["result"]["adapters"][0]
        self.assertEqual(a["ipv4"], [{"address": "192.0.2.100", "prefixLength": 24}])
        self.assertEqual(a["gateways"][0]["nextHop"], "192.0.2.1")

    def test_match_by_order_when_the_mac_is_new(self):
        ni = [vif("fa:16:3e:00:00:01", "192.0.2.0/24", "192.0.2.41", "192.0.2.42"),
              vif("fa:16:3e:00:00:02", "198.51.100.0/24", "198.51.100.41")]
        cfg = config()
        for r in cfg["network"]["adapters"]:
            del r["match"]["mac"]
        res = run(cfg=cfg, network_info=ni)["result"]
        self.assertEqual(res["failed"], [])
        self.assertEqual([(a["name"], a["mac"]) for a in res["adapters"]],
                         [("Prod LAN", "fa:16:3e:00:00:01"), ("Backup", "fa:16:3e:00:00:02")])


if __name__ == "__main__":
    unittest.main()
