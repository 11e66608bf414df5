"""The lab's replay of v2o's first-boot task (firstboot.json version 2, issue 13 contract section D).

The lab's Nova (v2o_lab_nova.py) calls replay() once it has decided that the simulated Windows
booted. Nothing here needs Nova: the inputs are the guest model read from the boot disk's bytes
(test/lab/vsphere/vcsim/simext/zz_v2o_diskstate.go), the parsed firstboot.json, and what the
instance was given (network_info's VIFs, hw_vif_model, the data volumes of block_device_info).

Two parts, in this order:
  1. the new hardware as Windows finds it at its first boot on KVM (new_hardware): the VMware
     adapters become non-present, one new adapter per VIF when Windows has a driver for it, the
     data disks on their new controller (offline under the SAN policy, without drive letters);
  2. the task's actions on that model (1)-(7), each failing where Windows would fail.
The report (FirstbootResult of src/migration/firstboot/actions.ts) is read back from the resulting
model, never copied from the config: a wrong replay shows in it. The lab is never kinder than the
real system; facts and their sources: /work/shared/recipes/windows/README.md and the comments here.
"""
import copy
import fnmatch
import hashlib
import json
import uuid as uuidlib

HKLM = "HKEY_LOCAL_MACHINE\\"
PARTMGR = HKLM + "SYSTEM\\CurrentControlSet\\Services\\partmgr\\Parameters"
CURRENT_VERSION = HKLM + "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
# VDS_SAN_POLICY (Microsoft Learn, "VDS_SAN_POLICY enumeration"), the DWORD partmgr\Parameters
# SanPolicy holds and MSFT_StorageSetting NewDiskPolicy reports: 1 online, 2 offline shared,
# 3 offline, 4 offline internal.
SAN_POLICY = {1: "OnlineAll", 2: "OfflineShared", 3: "OfflineAll", 4: "OfflineInternal"}
SAN_VALUE = {v: k for k, v in SAN_POLICY.items()}
# Nova's libvirt driver writes the SMBIOS system manufacturer from nova.version.vendor_string().
NOVA_MANUFACTURER = "OpenStack Foundation"
VMWARE_MANUFACTURER = "VMware, Inc."
# pnputil /remove-device exists from Windows 10 version 2004 (build 19041) on (Microsoft Learn,
# "PnPUtil command syntax": "/remove-device ... Supported on Windows 10 version 2004 and later").
PNPUTIL_REMOVE_DEVICE_BUILD = 19041

# The device each hw_vif_model gives the guest (QEMU's models, Nova's libvirt driver passes the
# name through) and what Windows calls it once a driver binds: virtio-net 1AF4:1000 with NetKVM
# from the virtio-win driver store; QEMU's e1000 is an Intel 82540EM (QEMU docs, "e1000: Intel
# 82540EM Gigabit Ethernet"), which Windows' inbox E1G60 driver names "Intel(R) PRO/1000 MT
# Desktop Adapter"; e1000e is an Intel 82574L (inbox e1i63x64 / e1iexpress). Other models: no
# driver in the lab, so no adapter.
VIF_DEVICES = {
    "virtio": {"description": "Red Hat VirtIO Ethernet Adapter", "driver": "netkvm", "inf": "netkvm.inf",
               "pci": "PCI\\VEN_1AF4&DEV_1000&SUBSYS_00011AF4&REV_00"},
    "e1000": {"description": "Intel(R) PRO/1000 MT Desktop Adapter", "driver": "e1g60", "inf": None,
              "pci": "PCI\\VEN_8086&DEV_100E&SUBSYS_11001AF4&REV_03"},
    "e1000e": {"description": "Intel(R) 82574L Gigabit Network Connection", "driver": "e1iexpress", "inf": None,
               "pci": "PCI\\VEN_8086&DEV_10D3&SUBSYS_00001AF4&REV_00"},
}


def norm_mac(mac):
    """00:50:56:a1:30:01 from any of Windows' 00-50-56-A1-30-01, Neutron's and vSphere's forms."""
    return (mac or "").strip().lower().replace("-", ":")


def win_mac(mac):
    return norm_mac(mac).upper().replace(":", "-")


def reg(state, key, name):
    """A registry value's data from the state's registry map (case-insensitive, like Windows)."""
    want = (key + "\\" + name).lower()
    for k, v in (state.get("registry") or {}).items():
        if k.lower() == want:
            return v.get("data") if isinstance(v, dict) else v
    return None


def staged(state, inf):
    """The package's INF is in the driver store (pnputil staging, what the DriverDatabase maps)."""
    return any((d.get("originalName") or "").lower() == inf for d in state.get("drivers") or [])


def has_file(state, path):
    return any(k.lower() == path.lower() for k in (state.get("files") or {}))


def os_build(state):
    try:
        return int(reg(state, CURRENT_VERSION, "CurrentBuild"))
    except (TypeError, ValueError):
        return 0


def windows_server(state):
    seed = state.get("seed") or {}
    if (seed.get("os") or "").lower().startswith("2k"):
        return True
    product = reg(state, CURRENT_VERSION, "ProductName") or seed.get("productName") or ""
    return "server" in product.lower()


def san_policy(state):
    """The effective SAN policy: partmgr\\Parameters SanPolicy, else the release's default. Windows
    Server's default is OfflineShared, client Windows' OnlineAll (Microsoft Learn, "VDS_SAN_POLICY
    enumeration" and diskpart "san": newly discovered disks on a shared bus stay offline); the lab
    treats every disk on KVM's virtio/SCSI controllers as such (Forklift PR #984, Coriolis sets
    san_policy=OnlineAll for the same reason)."""
    v = reg(state, PARTMGR, "SanPolicy")
    if v in SAN_POLICY:
        return SAN_POLICY[v]
    return "OfflineShared" if windows_server(state) else "OnlineAll"


def apipa(mac):
    """The link-local address Windows gives a DHCP adapter no server answers (RFC 3927; Microsoft
    Learn, "Automatic Private IP Addressing"): 169.254.1.0-169.254.254.255, here derived from the MAC."""
    h = hashlib.sha256(norm_mac(mac).encode()).digest()
    return "169.254.%d.%d" % (1 + h[0] % 254, h[1])


def _vif_subnets(vif):
    return [s for s in ((vif.get("network") or {}).get("subnets") or []) if s]


def dhcp_lease(vif):
    """What a DHCP client on this VIF ends up with: the port's fixed IPs, the gateway and DNS of a
    subnet that has a DHCP server (Nova's network_info carries it as the subnet's dhcp_server, see
    nova/network/neutron.py _get_subnets_from_port), else an APIPA address and nothing else."""
    ipv4, gateways, dns = [], [], []
    for s in _vif_subnets(vif):
        meta = s.get("meta") or {}
        cidr = s.get("cidr") or ""
        if ":" in cidr or not meta.get("dhcp_server"):
            continue
        plen = int(cidr.split("/")[1]) if "/" in cidr else 24
        for ip in s.get("ips") or []:
            ipv4.append({"address": ip.get("address"), "prefixLength": plen})
        gw = (s.get("gateway") or {}).get("address")
        if gw:
            gateways.append({"nextHop": gw, "metric": 0})
        dns += [d.get("address") for d in s.get("dns") or [] if d.get("address")]
    if not ipv4:
        return [{"address": apipa(vif.get("address")), "prefixLength": 16}], [], []
    return ipv4, gateways, dns


def port_addresses(vif):
    return {ip.get("address") for s in _vif_subnets(vif) for ip in s.get("ips") or []}


def vif_mtu(vif):
    try:
        return int(((vif.get("network") or {}).get("meta") or {}).get("mtu") or 1500)
    except (TypeError, ValueError):
        return 1500


def _held(adapters, name, but=None):
    """The adapter (present or not) that holds the connection name, other than `but`."""
    for a in adapters:
        if a is not but and (a.get("name") or "").lower() == name.lower():
            return a
    return None


def new_hardware(state, instance_uuid, network_info, vif_model, data_volumes, log):
    """The model as Windows sees it at its first boot on the instance's hardware (a deep copy)."""
    m = copy.deepcopy(state)
    net = m.setdefault("network", {})
    adapters = net.setdefault("adapters", [])
    # The disk came from a VMware VM: every adapter it had present is VMware hardware, which is gone.
    # Windows keeps a device it no longer sees as non-present, with its connection name and TCP/IP
    # settings (they belong to the interface GUID, not the MAC: virt-v2v docs/virt-v2v.pod, --mac
    # "ip:": Windows is "unable to preserve MAC to static IP address mappings").
    for a in adapters:
        if a.get("present", True):
            a["present"] = False
            a["status"] = "Unknown"
            log("%s (%s) is no longer present: Windows keeps it as a non-present device holding its name"
                % (a.get("name"), a.get("description")))
    model = (vif_model or "virtio").lower()
    dev = VIF_DEVICES.get(model)
    next_index = max([a.get("ifIndex") or 0 for a in adapters] + [1]) + 1
    for i, vif in enumerate(network_info or []):
        mac = norm_mac(vif.get("address"))
        if dev is None:
            log("VIF %s: no Windows driver for hw_vif_model=%s in the lab: no adapter" % (mac, model))
            continue
        if dev["inf"] and not staged(state, dev["inf"]):
            # Windows installs a device only from a driver package in its store (Microsoft Learn,
            # "Driver Store"); without NetKVM the virtio-net device stays an unknown "Ethernet Controller".
            log("VIF %s: %s is not in the driver store: the virtio-net device has no driver, no adapter"
                % (mac, dev["inf"]))
            continue
        # New connections are named "Ethernet", "Ethernet 2", ..., skipping names any adapter,
        # present or not, still holds (why a ghost's name cannot be given to the new adapter).
        n, name = 1, "Ethernet"
        while _held(adapters, name):
            n += 1
            name = "Ethernet %d" % n
        ipv4, gateways, dns = dhcp_lease(vif)
        # A second device of one model is "<description> #2" (ghosts count: they keep theirs).
        same = sum(1 for a in adapters if (a.get("description") or "").split(" #")[0] == dev["description"])
        a = {
            "name": name, "description": dev["description"] + (" #%d" % (same + 1) if same else ""),
            "driver": dev["driver"], "mac": mac,
            "guid": "{%s}" % str(uuidlib.uuid5(uuidlib.NAMESPACE_OID, "%s/%s" % (instance_uuid, mac))).upper(),
            "ifIndex": next_index, "present": True,
            "instanceId": "%s\\3&267A616A&0&%02X" % (dev["pci"], 0x18 + 8 * i),
            "status": "Up", "dhcp": True, "ipv4": ipv4, "ipv6": [], "gateways": gateways, "routes": [],
            "dnsServers": dns, "registerInDns": True, "mtu": vif_mtu(vif),
            # An unidentified network is Public (Microsoft Learn, "Network location types"): the
            # firewall's Public profile, so RDP is blocked until the category is set back.
            "category": "Public", "vlanId": 0,
        }
        next_index += 1
        adapters.append(a)
        log("new adapter %s (%s, %s), DHCP, %s" % (name, a["description"], mac,
                                                    ", ".join(x["address"] for x in ipv4)))
    # Disks: disk 0 is the boot disk (this one); the data disks follow in the order the volumes are
    # attached (block_device_info), matched with the captured data disks by order. Their bytes are
    # the same, so their volume GUIDs are too (Windows keys \??\Volume{GUID} in HKLM\SYSTEM\
    # MountedDevices by the MBR disk signature + partition offset or the GPT partition GUID, both on
    # the disk). Each is a newly discovered disk on a new controller: the SAN policy decides whether
    # it comes online (see san_policy), and the lab takes its old drive letter away (an offline disk
    # has no mounted volume; at the first boot on new hardware a CD-ROM or config drive may take the
    # letter first): restoring the letters by GUID is the task's job.
    policy = san_policy(state)
    captured = sorted(m.get("disks") or [], key=lambda d: d.get("number", 0))
    system = [d for d in captured if d.get("system") or d.get("boot") or d.get("number") == 0][:1]
    data = [d for d in captured if d not in system]
    disks = []
    for d in system:
        disks.append(dict(d, number=0, online=True))
    for i, vol in enumerate(data_volumes or []):
        d = copy.deepcopy(data[i]) if i < len(data) else {"system": False, "boot": False, "partitionStyle": "RAW",
                                                            "sizeBytes": 0, "dynamic": False, "volumes": []}
        d["number"] = i + 1
        d["online"] = policy == "OnlineAll"
        d["volumeId"] = vol
        for v in d.get("volumes") or []:
            v["driveLetter"] = None
        disks.append(d)
        log("disk %d (volume %s) %s under SAN policy %s" % (i + 1, vol, "online" if d["online"] else "offline",
                                                            policy))
    for d in data[len(data_volumes or []):]:
        log("captured disk %s has no volume attached to the instance" % d.get("number"))
    m["disks"] = disks
    m["manufacturer"] = NOVA_MANUFACTURER
    m["smbiosUuid"] = instance_uuid.lower()
    return m


def _matches(desc, patterns):
    """Get-PnpDevice FriendlyName against the config's descriptions: exact, a wildcard, or the same
    with the " #2" Windows appends to a second device of one model."""
    d = (desc or "").lower()
    for p in patterns or []:
        p = p.lower()
        if fnmatch.fnmatchcase(d, p) or d == p or d.startswith(p + " #"):
            return True
    return False


class Replay:
    """The task's actions (contract section D, in order) on the model new_hardware made."""

    def __init__(self, model, cfg, network_info, qemu_guest_agent):
        self.m = model
        self.cfg = cfg
        self.vifs = {norm_mac(v.get("address")): v for v in network_info or []}
        self.qga = qemu_guest_agent
        self.failed = []
        self.removed = []
        self.lines = []

    def log(self, text):
        self.lines.append(text)

    def fail(self, action, target, message):
        self.failed.append({"action": action, "target": target, "message": message})
        self.log("FAILED %s %s: %s" % (action, target, message))

    @property
    def adapters(self):
        return self.m["network"]["adapters"]

    def present(self):
        return sorted([a for a in self.adapters if a.get("present", True)], key=lambda a: a.get("ifIndex") or 0)

    def run(self):
        net = self.cfg.get("network")
        if net:
            self.remove_ghosts(net.get("removeGhosts") or {})
            matched = [(r, self.match(r)) for r in net.get("adapters") or []]
            for r, a in matched:
                if a is not None:
                    self.rename(r, a)
            for r, a in matched:
                if a is not None:
                    self.configure(r, a)
            for r, a in matched:
                if a is not None:
                    self.category(r, a)
        self.nla()
        if self.cfg.get("disks"):
            self.disks(self.cfg["disks"])
        if self.cfg.get("guestAgent"):
            self.guest_agent(self.cfg["guestAgent"])
        if self.cfg.get("removeVmwareTools"):
            # msiexec /x of the VMware Tools product: nothing on KVM stops it.
            self.m["vmwareTools"] = False
            self.log("VMware Tools uninstalled (msiexec /x)")
        return self

    def tools_installed(self):
        tools = self.m.get("vmwareTools")
        if tools is None:  # a model without the field: what the seed says
            tools = ((self.m.get("seed") or {}).get("tools") or "running") != "notInstalled"
        return bool(tools)

    # (1) ghosts
    def remove_ghosts(self, spec):
        mech = spec.get("mechanism")
        ghosts = [a for a in self.adapters if not a.get("present", True)
                  and _matches(a.get("description"), spec.get("descriptions"))]
        build = os_build(self.m)
        for g in ghosts:
            target = g.get("name") or g.get("instanceId")
            if mech == "pnputil" and build < PNPUTIL_REMOVE_DEVICE_BUILD:
                # Microsoft Learn, "PnPUtil command syntax": /remove-device from Windows 10 version 2004.
                self.fail("removeGhosts", target, "pnputil /remove-device does not exist before Windows 10 2004 "
                          "(build %d): pnputil prints its usage and removes nothing" % build)
                continue
            if mech == "setupapi" and (self.m.get("languageMode") or "FullLanguage") != "FullLanguage":
                # Microsoft Learn, about_Language_Modes: ConstrainedLanguage does not allow Add-Type
                # (no new types), so SetupDiCallClassInstaller(DIF_REMOVE) cannot be reached.
                self.fail("removeGhosts", target, "Add-Type : Cannot add type. Definition of new types is not "
                          "supported in this language mode.")
                continue
            if mech not in ("pnputil", "setupapi"):
                self.fail("removeGhosts", target, "unknown mechanism %r" % mech)
                continue
            self.adapters.remove(g)
            self.removed.append(g.get("instanceId"))
            self.log("removed the non-present %s (%s, %s) with %s" % (g.get("description"), g.get("name"),
                                                                      g.get("instanceId"), mech))

    def match(self, r):
        """The present new adapter: by MAC when the port keeps it, else by position (0-based) among
        the present NetKVM/e1000 adapters in ifIndex order."""
        ours = [a for a in self.present() if a.get("driver") in {d["driver"] for d in VIF_DEVICES.values()}]
        want = (r.get("match") or {})
        if want.get("mac"):
            hit = [a for a in ours if norm_mac(a.get("mac")) == norm_mac(want["mac"])]
            if not hit:
                self.fail("adapter", r.get("name"), "Get-NetAdapter: no adapter with MAC address %s"
                          % win_mac(want["mac"]))
                return None
            return hit[0]
        order = want.get("order")
        if not isinstance(order, int) or not 0 <= order < len(ours):
            self.fail("adapter", r.get("name"), "Get-NetAdapter: no adapter number %s (%d present)"
                      % (order, len(ours)))
            return None
        return ours[order]

    # (2) rename
    def rename(self, r, a):
        name = r.get("name")
        if not name or name == a["name"]:
            return
        holder = _held(self.adapters, name, but=a)
        if holder is not None:
            # Microsoft Learn, Rename-NetAdapter; Windows refuses a connection name another device,
            # present or not, still has (the ghost's name is why the ghosts go first).
            self.fail("rename", name, "Rename-NetAdapter : {Object Exists} An attempt was made to create an "
                      "object and the object name already existed.")
            self.log("  (%r is held by the %s %s)" % (name, "present" if holder.get("present", True)
                                                      else "non-present", holder.get("description")))
            return
        self.log("renamed %s to %s" % (a["name"], name))
        a["name"] = name

    # (3) static configuration
    def configure(self, r, a):
        vif = self.vifs.get(norm_mac(a.get("mac"))) or {}
        if r.get("dhcp"):
            ipv4, gateways, dns = dhcp_lease(vif)
            a.update(dhcp=True, ipv4=ipv4, ipv6=[], gateways=gateways, routes=[], dnsServers=dns)
            self.log("%s: DHCP (%s)" % (a["name"], ", ".join(x["address"] for x in ipv4)))
        else:
            # Microsoft Learn, New-NetIPAddress: each address on the interface (DHCP off for it,
            # Set-NetIPInterface -Dhcp Disabled, which drops the leased/APIPA address); an address
            # another present adapter holds is refused.
            v4, v6 = [], []
            for fam, out in (("ipv4", v4), ("ipv6", v6)):
                for addr in r.get(fam) or []:
                    holder = next((o for o in self.present() if o is not a
                                   and any(x.get("address") == addr.get("address") for x in o.get(fam) or [])), None)
                    if holder is not None:
                        self.fail("static", a["name"], "New-NetIPAddress : The object already exists. (%s is "
                                  "assigned to %s)" % (addr.get("address"), holder["name"]))
                        continue
                    out.append({"address": addr.get("address"), "prefixLength": addr.get("prefixLength")})
            a.update(dhcp=False, ipv4=v4, ipv6=v6,
                     gateways=[dict(g) for g in r.get("gateways") or []],
                     routes=[dict(x) for x in r.get("routes") or []],
                     dnsServers=list(r.get("dnsServers") or []),
                     registerInDns=bool(r.get("registerInDns", True)))
            if r.get("dnsSuffix"):
                a["dnsSuffix"] = r["dnsSuffix"]
            else:
                a.pop("dnsSuffix", None)
            self.log("%s: static %s; gateway %s; routes %s; DNS %s%s" % (
                a["name"], ", ".join("%s/%s" % (x["address"], x["prefixLength"]) for x in v4 + v6) or "none",
                ", ".join("%s metric %s" % (g["nextHop"], g.get("metric")) for g in a["gateways"]) or "none",
                ", ".join("%s via %s" % (x["destination"], x["nextHop"]) for x in a["routes"]) or "none",
                ", ".join(a["dnsServers"]) or "none", ", suffix " + a["dnsSuffix"] if a.get("dnsSuffix") else ""))
            # Neutron's port security drops what does not come from the port's fixed IPs: Windows
            # accepts the address anyway, so the lab only says it.
            outside = [x["address"] for x in v4 if vif and x["address"] not in port_addresses(vif)]
            if outside:
                self.log("  (%s: not a fixed IP of the port %s)" % (", ".join(outside), a.get("mac")))
        if r.get("mtu"):
            a["mtu"] = int(r["mtu"])

    # (4) category
    def category(self, r, a):
        want = r.get("category")
        if want in ("Private", "Public"):
            # Microsoft Learn, Set-NetConnectionProfile -NetworkCategory Private|Public.
            a["category"] = want
            self.log("%s: network category %s" % (a["name"], want))
        elif want == "DomainAuthenticated":
            # Set-NetConnectionProfile cannot set DomainAuthenticated: NLA sets it (nla()).
            self.log("%s: category DomainAuthenticated left to NLA" % a["name"])

    def nla(self):
        """Microsoft Learn, "Network location types" / Set-NetConnectionProfile: a domain-joined
        machine's network is DomainAuthenticated once NLA finds a domain controller of its domain
        through the adapter; the lab takes the adapter's DNS suffix being the domain and DNS servers
        set as that. It overrides Private/Public."""
        domain = (self.m.get("domain") or "").lower()
        for a in self.present():
            if self.m.get("partOfDomain") and domain and (a.get("dnsSuffix") or "").lower() == domain \
                    and a.get("dnsServers"):
                if a.get("category") != "DomainAuthenticated":
                    self.log("%s: NLA authenticated the domain %s: DomainAuthenticated" % (a["name"], domain))
                a["category"] = "DomainAuthenticated"

    # (5) disks
    def disks(self, spec):
        want = spec.get("sanPolicy")
        if want in SAN_VALUE:
            # Microsoft Learn, Set-StorageSetting -NewDiskPolicy / diskpart "san policy=": the value
            # partmgr\Parameters SanPolicy; it applies to disks found from now on, not to disks
            # already offline (hence the next action).
            regmap = self.m.setdefault("registry", {})
            key = next((k for k in regmap if k.lower() == (PARTMGR + "\\SanPolicy").lower()), PARTMGR + "\\SanPolicy")
            regmap[key] = {"type": "REG_DWORD", "data": SAN_VALUE[want]}
            self.log("SAN policy %s" % want)
        elif want:
            self.fail("sanPolicy", str(want), "Set-StorageSetting : unknown NewDiskPolicy %s" % want)
        if spec.get("online"):
            for d in self.m["disks"]:
                if not d.get("online"):
                    # Set-Disk -IsOffline $false (and -IsReadOnly $false).
                    d["online"] = True
                    self.log("disk %d online" % d["number"])
        for want in spec.get("letters") or []:
            guid = (want.get("volumeGuid") or "").lower()
            letter = (want.get("driveLetter") or "").rstrip(":\\").upper()
            disk, vol = next(((d, v) for d in self.m["disks"] for v in d.get("volumes") or []
                              if (v.get("guid") or "").lower() == guid), (None, None))
            if vol is None:
                self.fail("letters", letter + ":", "no volume %s on this machine" % want.get("volumeGuid"))
                continue
            if not disk.get("online"):
                self.fail("letters", letter + ":", "Set-Partition : The disk is offline. (disk %d)" % disk["number"])
                continue
            other = next((v for d in self.m["disks"] for v in d.get("volumes") or []
                          if v is not vol and (v.get("driveLetter") or "").upper() == letter), None)
            if other is not None:
                self.fail("letters", letter + ":", "Set-Partition : The requested access path is already in use.")
                continue
            vol["driveLetter"] = letter
            self.log("%s: mounted %s" % (letter, vol.get("guid")))

    # (6) guest agent
    def guest_agent(self, spec):
        msi = spec.get("msi") or ""
        if not has_file(self.m, msi):
            # msiexec error 1619 (Microsoft Learn, "MsiExec.exe and InstMsi.exe error messages").
            self.fail("guestAgent", msi, "This installation package could not be opened. Verify that the "
                      "package exists and that you can access it (msiexec 1619)")
            self.m["guestAgentResult"] = "failed"
            return
        if not staged(self.m, "vioser.inf"):
            # qemu-ga talks over virtio-serial (recipes README, virtio-win ISO): without the vioserial
            # driver the port does not exist and the service cannot start.
            self.fail("guestAgent", msi, "vioser.inf is not in the driver store: no virtio-serial port, "
                      "the QEMU Guest Agent service does not start")
            self.m["guestAgentResult"] = "failed"
            return
        self.m["guestAgent"] = True
        self.m["guestAgentResult"] = "installed"
        self.log("QEMU guest agent installed from %s%s" % (
            msi, "" if self.qga else " (the image has no hw_qemu_guest_agent=yes: no org.qemu.guest_agent.0 channel)"))

    def result(self, boot=1):
        """FirstbootResult, read back from the model (Get-NetAdapter, Get-NetIPAddress, Get-Disk ...)."""
        adapters = []
        for a in self.present():
            x = {"name": a.get("name"), "mac": norm_mac(a.get("mac")), "dhcp": bool(a.get("dhcp")),
                 "ipv4": a.get("ipv4") or [], "ipv6": a.get("ipv6") or [], "gateways": a.get("gateways") or [],
                 "routes": a.get("routes") or [], "dnsServers": a.get("dnsServers") or []}
            if a.get("dnsSuffix"):
                x["dnsSuffix"] = a["dnsSuffix"]
            if a.get("category"):
                x["category"] = a["category"]
            adapters.append(x)
        r = {"boot": boot, "adapters": adapters, "ghostsRemoved": list(self.removed), "sanPolicy": san_policy(self.m),
             "disks": [{"number": d["number"], "online": bool(d.get("online")),
                        "letters": [v["driveLetter"] for v in d.get("volumes") or [] if v.get("driveLetter")]}
                       for d in self.m["disks"]]}
        if self.m.get("guestAgentResult"):
            r["guestAgent"] = self.m["guestAgentResult"]
        if self.cfg.get("removeVmwareTools"):
            r["vmwareTools"] = "removed"
        elif self.tools_installed():
            r["vmwareTools"] = "kept"
        r["failed"] = list(self.failed)
        return r


def replay(state, cfg, instance_uuid, manufacturer=NOVA_MANUFACTURER, network_info=(), vif_model=None,
           data_volumes=(), qemu_guest_agent=False):
    """None when the task does nothing on this machine, else dict(result, lines, hardware, model):
    the FirstbootResult, the human lines the task logs (in order), what the lab's new hardware did
    to the guest before the task ran (for nova-boot.log), and the resulting model."""
    uuid = instance_uuid.lower()
    src = (cfg.get("sourceUuid") or "").lower()
    # The task acts only on the target: not on the VMware machine (before shutdown, or the source
    # booted again) and not on the machine whose SMBIOS UUID is the source's (rollback).
    if manufacturer == VMWARE_MANUFACTURER or (src and src == uuid):
        return None
    hardware = []
    model = new_hardware(state, uuid, network_info, vif_model, data_volumes, hardware.append)
    rp = Replay(model, cfg, network_info, qemu_guest_agent).run()
    return {"result": rp.result(), "lines": rp.lines, "hardware": hardware, "model": rp.m}


def marker_line(run_id, uuid, hostname, build, bus, time, result=None):
    """The task's COM1 line (src/migration/firstboot/marker.ts), + CRLF."""
    m = {"runId": run_id, "uuid": uuid.lower(), "hostname": hostname, "osBuild": build, "bus": bus, "time": time}
    if result is not None:
        m["result"] = result
    return "v2o-firstboot: " + json.dumps(m, separators=(",", ":")) + "\r\n"


LOG_PREFIX = "v2o-firstboot-log: "


def log_text(lines):
    return "".join(LOG_PREFIX + line + "\r\n" for line in lines)
