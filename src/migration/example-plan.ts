// The commented example plan that `v2o init` writes. examples/plan.example.yaml is the same
// text (a unit test keeps them identical), so the docs and the command never drift apart.
export const EXAMPLE_PLAN = `# v2o migration plan: which Windows VMs move from vSphere to which OpenStack cloud, and how.
# Check it with \`v2o plan plan.yaml\` (read-only), run it with \`v2o migrate plan.yaml\`.
# No secrets belong here: vSphere credentials come from GOVC_USERNAME / GOVC_PASSWORD,
# OpenStack ones from clouds.yaml (OS_CLIENT_CONFIG_FILE), guest ones from the variables named below.
version: 1

source:
  # vCenter or ESXi SDK URL. Leave it out to use $GOVC_URL.
  # url: https://vcenter.example.com/sdk
  # datacenter: DC0
  # TLS: verified by default; pin a CA file or a SHA-256 thumbprint instead of turning it off.
  # caFile: /etc/v2o/vcenter-ca.pem
  # thumbprint: "AB:CD:..."

target:
  # A cloud from clouds.yaml. Leave it out to use $OS_CLOUD.
  # region: RegionOne
  cloud: v2o-lab

# At most this many VMs migrate at once; disks move in parallel within these limits: per VM, in all
# (default vms × disksPerVm), per source host (ESXi/vCenter) and per target cloud.
concurrency:
  vms: 2
  disksPerVm: 2
  disks: 4
  perSourceHost: 4
  perTarget: 4

# Settings for every VM; each entry under \`vms:\` may override any of them.
defaults:
  # A flavor name or id, or \`auto\` for the smallest flavor that fits the VM's CPUs, RAM and boot disk.
  flavor: auto
  # Bus of the boot disk on OpenStack: virtio (viostor), scsi (vioscsi, virtio-scsi) or sata (no
  # virtio storage driver needed). The matching driver is made boot-critical before shutdown.
  diskBus: virtio
  # vmdk streams the export straight into Glance; qcow2 and raw convert with qemu-img
  # through one staged copy (\`v2o plan\` prints the local space that needs).
  imageFormat: vmdk
  # How disks leave vSphere: lease (ExportVm, any disk type) or datastore (the VMDK files over the
  # datastore HTTP endpoint; needs imageFormat qcow2 or raw, as they are converted locally).
  exportMethod: lease
  # Hashes of every uploaded byte, compared with what Glance stored: md5 with its checksum, sha512
  # (or sha256) with its os_hash_value. Each costs CPU here (about 2 s per GiB for md5 or sha512,
  # 1 s for sha256); [] checks sizes only.
  uploadHashes: [md5]
  # Seconds without a byte moving before a disk copy counts as stalled: the export is reopened where
  # it stopped (HTTP Range), an upload is aborted and retried.
  transferStallSeconds: 60
  # After launch, v2o waits for Windows itself to report its first boot: a scheduled task it leaves
  # in the guest before shutdown writes one line to COM1, read from Nova's console log. marker
  # (default) or none (trust ACTIVE, e.g. on a cloud that disables the console log; v2o plan warns).
  bootCheck: marker
  # Seconds each server may take to report its first boot.
  bootTimeoutSeconds: 900
  # sata: Windows' own SATA driver (storahci) is made boot-critical too before shutdown, and when no
  # report comes in time v2o deletes the server (ports and volumes kept), sets hw_disk_bus=sata on
  # the boot image or volume and boots a new server on it; none: only the planned bus is prepared,
  # and a silent boot fails the run.
  bootFallback: sata
  # true, false, or auto (from a volume only when the boot disk is larger than the flavor's disk).
  bootFromVolume: auto
  # NIC model on OpenStack: virtio (NetKVM is installed) or e1000 (keep the emulated NIC).
  vifModel: virtio
  drivers:
    # auto: v2o prepares the drivers through VMware Tools guest operations (pnputil stages them,
    # the boot driver's .sys and service key are written). manual: the run waits (exit 3) until you
    # run the same recipe as one script (\`v2o guest-script plan.yaml --vm NAME\`) and \`v2o approve <run>\`.
    mode: auto
    # Also install the memory balloon driver.
    balloon: true
    # The virtio-win ISO, from a local path or an http(s) URL (downloaded once, resumably, and cached).
    virtioWin:
      url: https://fedorapeople.org/groups/virt/virtio-win/direct-downloads/stable-virtio/virtio-win.iso
      # sha256: <64 hex characters>; strongly recommended, the download is verified against it.
  # Names of the environment variables that hold a guest administrator account (for guest operations).
  guestCredentials:
    usernameEnv: V2O_GUEST_USERNAME
    passwordEnv: V2O_GUEST_PASSWORD
  # With VMware Tools running and these variables set, \`v2o plan\`, \`v2o migrate\` and preflight
  # inspect the running guest read-only (one PowerShell run, its output read back, nothing left):
  # adapters, addresses, routes, DNS, disks, SAN policy, and these checks, each a blocker or a
  # warning with its fix: BitLocker, domain controller, pending reboot, Fast Startup, a dynamic
  # system disk, free space on C:, an execution policy or device installation restricted by Group
  # Policy, Constrained Language Mode, NIC teaming, a VLAN id inside the guest, a UTC clock.
  # Fast Startup is turned off just before the shutdown (and on again by a rollback).
  # BitLocker on a volume: block (default), or suspend: v2o suspends protection (Suspend-BitLocker
  # -RebootCount 0) just before shutdown and leaves it suspended; on OpenStack protect the disk
  # again (a vTPM-capable flavor and image, or another protector). A rollback resumes it.
  bitlocker: block
  # A domain controller: block (default), or allow: the source must never run again once the
  # target booted (sourceAfter: power-on is refused; a rollback after that needs --force).
  domainController: block
  # localtime (default): a guest keeping its hardware clock in UTC (RealTimeIsUniversal=1) has the
  # value cleared before shutdown, as Nova gives Windows a local-time clock (a rollback sets it
  # back); utc: kept (v2o plan warns).
  clock: localtime
  # Source port group -> target network, one Neutron port per NIC. keepMac keeps the NIC's MAC and
  # nothing else: Windows ties its IP settings, DNS, routes, the adapter's name and its network
  # category to the adapter, and the NetKVM adapter is a new one. So v2o captures them in the running
  # guest and its first-boot task replays them on OpenStack (ghost VMware adapters removed, the new
  # adapter renamed, static addresses, gateways, routes, DNS, MTU and category set again).
  # fixedIps: keep (default) gives the port the guest's captured addresses that lie in a subnet of
  # the network; none lets Neutron choose (the guest then takes DHCP); a list replaces the captured
  # addresses one by one (the older fixedIp: X is the same as [X]). outsideAddresses: warn (default)
  # for captured addresses in no subnet of the network, or allowed-address-pairs (the port allows
  # them; Neutron neither assigns nor routes them). Two NICs on one network are allowed.
  networks:
    - portGroup: VM Network
      network: lab-net
      keepMac: true
      fixedIps: keep
      outsideAddresses: warn
  # The QEMU guest agent: vioserial is staged with the other drivers, its MSI copied into the guest
  # before shutdown and installed by the first-boot task; the boot image gets hw_qemu_guest_agent=yes.
  guestAgent: true
  # The first-boot task uninstalls VMware Tools on OpenStack (msiexec /x of its product code).
  removeVmwareTools: false
  # After a successful migration: keep-off (default) or power-on the source VM again.
  sourceAfter: keep-off
  # cold (default): shut down, then copy. warm: copy while Windows runs (vSphere CBT) into volumes
  # attached to the conversion host, a precopy pass every warm.passIntervalMinutes, and shut down
  # only for the last changes at \`v2o cutover <run>\` (or warm.cutoverAt). Warm needs flat disks and
  # a conversionHost.
  migration: cold
  # warm:
  #   passIntervalMinutes: 60
  #   maxPasses: 24
  #   cutoverAt: 2026-12-02T22:00:00+01:00
  # The OpenStack server v2o runs on, in the target project: warm copies into volumes attached to it,
  # and a cold copy of a disk that becomes a volume resumes mid-disk through it.
  # conversionHost:
  #   server: auto          # named by the metadata service; or a server name or id
  #   deviceDir: /dev/disk/by-id

vms:
  - name: win2019-app01
  # - name: win2022-db01
  #   flavor: win.large
  #   diskBus: scsi
  #   bootFromVolume: true
  #   networks:
  #     - portGroup: VM Network
  #       network: lab-db-net
  #       keepMac: true
  #       fixedIps: [10.20.0.15]
`;
