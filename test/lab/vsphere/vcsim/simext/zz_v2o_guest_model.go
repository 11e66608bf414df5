// v2o lab add-on compiled INTO package simulator (test-only): the Windows guest's network
// identity, disks, BitLocker, language mode and domain membership (issue 13, contract §B). The
// PowerShell capture cmdlets (zz_v2o_guest_ps.go) answer from it, the boot disk's state JSON
// carries it (v2oDiskModel embeds it, so the lab's Nova replays first-boot actions on it), a
// reset restores the seeded one and POST /v2o-ext/guest/state replaces parts of it.
package simulator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/vmware/govmomi/vim25/types"
)

// V2oIPAddr is one address with its prefix length.
type V2oIPAddr struct {
	Address      string `json:"address"`
	PrefixLength int    `json:"prefixLength"`
}

// V2oGateway is a default gateway (a 0.0.0.0/0 route) with its RouteMetric.
type V2oGateway struct {
	NextHop string `json:"nextHop"`
	Metric  int    `json:"metric"`
}

// V2oRoute is a persistent route (route -p / New-NetRoute -PolicyStore PersistentStore).
type V2oRoute struct {
	Destination string `json:"destination"`
	NextHop     string `json:"nextHop"`
	Metric      int    `json:"metric"`
}

// V2oAdapter is one network device Windows knows: present (Get-NetAdapter lists it) or a ghost
// (non-present: only Get-PnpDevice shows it, and it still holds its name and addresses).
type V2oAdapter struct {
	Name          string       `json:"name"`
	Description   string       `json:"description"`
	Driver        string       `json:"driver"` // vmxnet3, e1000e, e1000, netkvm
	MAC           string       `json:"mac"`    // lower case, colon separated
	GUID          string       `json:"guid"`   // {…} upper case, as Get-NetAdapter's InterfaceGuid
	IfIndex       int          `json:"ifIndex"`
	Present       bool         `json:"present"`
	InstanceID    string       `json:"instanceId"`
	Status        string       `json:"status"` // Up, Disconnected, Disabled, Not Present
	DHCP          bool         `json:"dhcp"`
	IPv4          []V2oIPAddr  `json:"ipv4"`
	IPv6          []V2oIPAddr  `json:"ipv6"`
	Gateways      []V2oGateway `json:"gateways"`
	Routes        []V2oRoute   `json:"routes"`
	DNSServers    []string     `json:"dnsServers"`
	DNSSuffix     string       `json:"dnsSuffix"`
	RegisterInDNS bool         `json:"registerInDns"`
	MTU           int          `json:"mtu"`
	Category      string       `json:"category"` // Public, Private, DomainAuthenticated
	VlanID        int          `json:"vlanId"`
}

// UnmarshalJSON: present, registerInDns default to true and dhcp to "no static address", so a
// hook or inventory entry names only what differs from a fresh adapter.
func (a *V2oAdapter) UnmarshalJSON(b []byte) error {
	type plain V2oAdapter
	aux := struct {
		*plain
		Present       *bool `json:"present"`
		DHCP          *bool `json:"dhcp"`
		RegisterInDNS *bool `json:"registerInDns"`
	}{plain: (*plain)(a)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	a.Present = aux.Present == nil || *aux.Present
	a.RegisterInDNS = aux.RegisterInDNS == nil || *aux.RegisterInDNS
	a.DHCP = (aux.DHCP == nil && len(a.IPv4) == 0) || (aux.DHCP != nil && *aux.DHCP)
	return nil
}

// V2oTeam is an LBFO team (Get-NetLbfoTeam); TeamingMode 0 Static, 1 SwitchIndependent, 2 Lacp.
type V2oTeam struct {
	Name        string   `json:"name"`
	Members     []string `json:"members"`
	TeamingMode int      `json:"teamingMode"`
}

// V2oNetwork is every adapter (present and ghost) and team.
type V2oNetwork struct {
	Adapters []V2oAdapter `json:"adapters"`
	Teams    []V2oTeam    `json:"teams"`
}

// V2oVolume is one partition's volume; an empty DriveLetter is a volume without a letter.
type V2oVolume struct {
	GUID        string `json:"guid"` // \\?\Volume{…}\
	DriveLetter string `json:"driveLetter"`
	Label       string `json:"label"`
	FileSystem  string `json:"fileSystem"`
	SizeBytes   int64  `json:"sizeBytes"`
	FreeBytes   int64  `json:"freeBytes"`
}

// V2oDisk is one disk as Get-Disk numbers it (the VMX disk order).
type V2oDisk struct {
	Number         int         `json:"number"`
	Online         bool        `json:"online"`
	System         bool        `json:"system"`
	Boot           bool        `json:"boot"`
	PartitionStyle string      `json:"partitionStyle"` // MBR, GPT, RAW
	SizeBytes      int64       `json:"sizeBytes"`
	Dynamic        bool        `json:"dynamic"`
	Volumes        []V2oVolume `json:"volumes"`
}

// UnmarshalJSON: online defaults to true.
func (d *V2oDisk) UnmarshalJSON(b []byte) error {
	type plain V2oDisk
	aux := struct {
		*plain
		Online *bool `json:"online"`
	}{plain: (*plain)(d)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	d.Online = aux.Online == nil || *aux.Online
	return nil
}

// V2oBitlocker is one BitLocker volume (Get-BitLockerVolume); Protection Off after
// Suspend-BitLocker, VolumeStatus unchanged (Microsoft "Suspend-BitLocker").
type V2oBitlocker struct {
	MountPoint   string `json:"mountPoint"`
	Protection   string `json:"protection"`   // On, Off, Unknown
	VolumeStatus string `json:"volumeStatus"` // FullyDecrypted, FullyEncrypted, EncryptionInProgress, …
}

// V2oGuestModel is the part of the guest issue 13 captures and replays.
type V2oGuestModel struct {
	Network      V2oNetwork     `json:"network"`
	Disks        []V2oDisk      `json:"disks"`
	Bitlocker    []V2oBitlocker `json:"bitlocker"`
	LanguageMode string         `json:"languageMode"` // FullLanguage, ConstrainedLanguage, RestrictedLanguage, NoLanguage
	DomainRole   int            `json:"domainRole"`   // Win32_ComputerSystem DomainRole 0..5
	PartOfDomain bool           `json:"partOfDomain"`
	Domain       string         `json:"domain"`
	SMBIOSUUID   string         `json:"smbiosUuid"`
	Manufacturer string         `json:"manufacturer"`
	VMwareTools  bool           `json:"vmwareTools"`
	GuestAgent   bool           `json:"guestAgent"`
}

func (m *V2oGuestModel) clone() V2oGuestModel {
	var c V2oGuestModel
	b, _ := json.Marshal(m)
	_ = json.Unmarshal(b, &c)
	return c
}

func v2oHash(parts ...string) []byte {
	s := sha256.Sum256([]byte(strings.Join(parts, "|")))
	return s[:]
}

// v2oGUIDFrom: a stable GUID string (lower case, no braces) for a name.
func v2oGUIDFrom(parts ...string) string {
	h := hex.EncodeToString(v2oHash(parts...)[:16])
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// v2oNICInfo: what Windows calls each VMware NIC (Device Manager names: "vmxnet3 Ethernet
// Adapter", "Intel(R) 82574L Gigabit Network Connection" for e1000e, "Intel(R) PRO/1000 MT
// Network Connection" for e1000) and its PCI id (VMware KB 1001805 lists vmxnet3 as
// VEN_15AD&DEV_07B0; e1000e is VEN_8086&DEV_10D3, e1000 VEN_8086&DEV_100F).
func v2oNICInfo(driver string) (desc, pci string) {
	switch strings.ToLower(driver) {
	case "e1000e":
		return "Intel(R) 82574L Gigabit Network Connection", `PCI\VEN_8086&DEV_10D3&SUBSYS_07D015AD&REV_00`
	case "e1000":
		return "Intel(R) PRO/1000 MT Network Connection", `PCI\VEN_8086&DEV_100F&SUBSYS_075015AD&REV_01`
	case "netkvm":
		return "Red Hat VirtIO Ethernet Adapter", `PCI\VEN_1AF4&DEV_1000&SUBSYS_00011AF4&REV_00`
	}
	return "vmxnet3 Ethernet Adapter", `PCI\VEN_15AD&DEV_07B0&SUBSYS_07B015AD&REV_01`
}

// v2oInstanceSerial: the device instance part Windows derives from the NIC's PCI slot; the lab
// derives it from the MAC (FF + 56 50 00 + the last three bytes + 00) so each adapter has its own.
func v2oInstanceSerial(mac string) string {
	p := strings.Split(strings.ToUpper(strings.ReplaceAll(mac, "-", ":")), ":")
	if len(p) != 6 {
		return strings.ToUpper(hex.EncodeToString(v2oHash(mac)[:8]))
	}
	return "FF" + p[2] + p[1] + p[0] + p[3] + p[4] + p[5] + "00"
}

type v2oVMNIC struct{ driver, mac string }

func v2oVMNICs(vm *VirtualMachine) []v2oVMNIC {
	var out []v2oVMNIC
	if vm == nil || vm.Config == nil {
		return out
	}
	type keyed struct {
		key int32
		nic v2oVMNIC
	}
	var ks []keyed
	for _, d := range vm.Config.Hardware.Device {
		card, ok := d.(types.BaseVirtualEthernetCard)
		if !ok {
			continue
		}
		c := card.GetVirtualEthernetCard()
		drv := "vmxnet3"
		switch d.(type) {
		case *types.VirtualE1000e:
			drv = "e1000e"
		case *types.VirtualE1000:
			drv = "e1000"
		}
		ks = append(ks, keyed{c.Key, v2oVMNIC{drv, strings.ToLower(c.MacAddress)}})
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].key < ks[j].key })
	for _, k := range ks {
		out = append(out, k.nic)
	}
	return out
}

func v2oVMDiskSizes(vm *VirtualMachine) []int64 {
	var out []int64
	if vm == nil || vm.Config == nil {
		return out
	}
	var keys []int
	sizes := map[int]int64{}
	for _, d := range vm.Config.Hardware.Device {
		if disk, ok := d.(*types.VirtualDisk); ok {
			keys = append(keys, int(disk.Key))
			sizes[int(disk.Key)] = disk.CapacityInKB * 1024
		}
	}
	sort.Ints(keys)
	for _, k := range keys {
		out = append(out, sizes[k])
	}
	return out
}

func (s V2oGuestSeed) v2oClient() bool {
	return strings.EqualFold(s.OS, "w10") || strings.EqualFold(s.OS, "w11")
}

// v2oDefaultModel: what a plain lab VM's Windows reports. One DHCP adapter per VMX NIC named
// Ethernet0, Ethernet1 … (VMware's vmxnet3/e1000e connections on a fresh install), category
// Private; disk 0 holds C: (BIOS: MBR with a "System Reserved" volume, EFI: GPT with an EFI
// system partition), data disks one NTFS volume each. Windows 10/11 ship the BitLocker module
// and report C: FullyDecrypted; Windows Server has no BitLocker until the feature is installed
// (Microsoft "BitLocker overview": a Server optional feature).
func v2oDefaultModel(vm *VirtualMachine, seed V2oGuestSeed) V2oGuestModel {
	m := V2oGuestModel{LanguageMode: "FullLanguage", Domain: "WORKGROUP", Manufacturer: "VMware, Inc."}
	// Win32_ComputerSystem DomainRole: 0 standalone workstation, 2 standalone server.
	if !seed.v2oClient() {
		m.DomainRole = 2
	}
	for i, n := range v2oVMNICs(vm) {
		a := V2oAdapter{Name: fmt.Sprintf("Ethernet%d", i), Driver: n.driver, MAC: n.mac, Present: true, DHCP: true,
			RegisterInDNS: true, Category: "Private"}
		if i == 0 && seed.IPAddress != "" {
			a.IPv4 = []V2oIPAddr{{seed.IPAddress, 24}}
		}
		m.Network.Adapters = append(m.Network.Adapters, a)
	}
	efi := vm != nil && vm.Config != nil && vm.Config.Firmware == string(types.GuestOsDescriptorFirmwareTypeEfi)
	letter := 'E' // D: is the CD-ROM
	for i, size := range v2oVMDiskSizes(vm) {
		d := V2oDisk{Number: i, Online: true, PartitionStyle: "GPT", SizeBytes: size}
		vol := func(label, fs, drive string, sz int64) V2oVolume {
			free := sz * 2 / 5
			if fs == "FAT32" || label == "System Reserved" {
				free = sz * 3 / 4
			}
			return V2oVolume{GUID: `\\?\Volume{` + v2oGUIDFrom(seed.HostName, fmt.Sprint(i), label, drive) + `}\`, DriveLetter: drive,
				Label: label, FileSystem: fs, SizeBytes: sz, FreeBytes: free}
		}
		if i == 0 {
			d.System, d.Boot = true, true
			small := size / 16
			if efi {
				d.Volumes = []V2oVolume{vol("", "FAT32", "", small), vol("", "NTFS", "C", size-small-v2oMSRSize(size)-(1<<20))}
			} else {
				d.PartitionStyle = "MBR"
				d.Volumes = []V2oVolume{vol("System Reserved", "NTFS", "", small), vol("", "NTFS", "C", size-small-(1<<20))}
			}
		} else {
			d.Volumes = []V2oVolume{vol("Data", "NTFS", string(letter), size-v2oMSRSize(size)-(2<<20))}
			letter++
		}
		m.Disks = append(m.Disks, d)
	}
	if seed.v2oClient() {
		m.Bitlocker = []V2oBitlocker{{MountPoint: "C:", Protection: "Off", VolumeStatus: "FullyDecrypted"}}
	}
	return m
}

// v2oMSRSize: the Microsoft Reserved partition Windows puts on every GPT disk it initializes
// (Microsoft "UEFI/GPT-based hard drive partitions": MSR, 16 MB), scaled down on the lab's tiny disks.
func v2oMSRSize(disk int64) int64 {
	if disk/8 < 16<<20 {
		return disk / 8
	}
	return 16 << 20
}

// v2oFillModel completes a model given in part (the inventory's guest, a hook's network): each
// adapter's description, driver, GUID, instance id, ifIndex, status, MTU and category, disk
// volumes' GUIDs; and the machine's identity.
func v2oFillModel(m *V2oGuestModel, vm *VirtualMachine, seed V2oGuestSeed) {
	nics := map[string]string{}
	for _, n := range v2oVMNICs(vm) {
		nics[n.mac] = n.driver
	}
	used := map[int]bool{}
	for _, a := range m.Network.Adapters {
		if a.IfIndex > 0 {
			used[a.IfIndex] = true
		}
	}
	next := 4 // ifIndex 1 is the loopback; Windows numbers the first adapters from a few up
	for i := range m.Network.Adapters {
		a := &m.Network.Adapters[i]
		a.MAC = strings.ToLower(strings.ReplaceAll(a.MAC, "-", ":"))
		if a.Driver == "" {
			a.Driver = nics[a.MAC]
			if a.Driver == "" {
				a.Driver = "vmxnet3"
			}
		}
		desc, pci := v2oNICInfo(a.Driver)
		if a.Description == "" {
			// A second device of one kind is "… #2" in Device Manager, Get-NetAdapter and
			// Get-PnpDevice alike (Windows numbers device descriptions per driver).
			a.Description = desc
			n := 1
			for _, o := range m.Network.Adapters[:i] {
				if o.Description == desc || strings.HasPrefix(o.Description, desc+" #") {
					n++
				}
			}
			if n > 1 {
				a.Description = fmt.Sprintf("%s #%d", desc, n)
			}
		}
		if a.InstanceID == "" {
			a.InstanceID = pci + `\` + v2oInstanceSerial(a.MAC)
		}
		if a.GUID == "" {
			a.GUID = "{" + strings.ToUpper(v2oGUIDFrom("nic", a.MAC, a.InstanceID)) + "}"
		}
		if a.IfIndex == 0 {
			for used[next] {
				next++
			}
			a.IfIndex = next
			used[next] = true
			next += 3
		}
		if a.Status == "" {
			a.Status = map[bool]string{true: "Up", false: "Not Present"}[a.Present]
		}
		if a.MTU == 0 {
			a.MTU = 1500
		}
		if a.Category == "" {
			a.Category = "Private"
		}
		for _, p := range []*[]V2oIPAddr{&a.IPv4, &a.IPv6} {
			if *p == nil {
				*p = []V2oIPAddr{}
			}
		}
		if a.Gateways == nil {
			a.Gateways = []V2oGateway{}
		}
		if a.Routes == nil {
			a.Routes = []V2oRoute{}
		}
		if a.DNSServers == nil {
			a.DNSServers = []string{}
		}
	}
	if m.Network.Adapters == nil {
		m.Network.Adapters = []V2oAdapter{}
	}
	if m.Network.Teams == nil {
		m.Network.Teams = []V2oTeam{}
	}
	for i := range m.Disks {
		for j := range m.Disks[i].Volumes {
			v := &m.Disks[i].Volumes[j]
			if v.GUID == "" {
				v.GUID = `\\?\Volume{` + v2oGUIDFrom(seed.HostName, fmt.Sprint(m.Disks[i].Number), fmt.Sprint(j)) + `}\`
			}
			v.DriveLetter = strings.ToUpper(strings.TrimSuffix(v.DriveLetter, ":"))
			if v.FileSystem == "" {
				v.FileSystem = "NTFS"
			}
		}
		if m.Disks[i].Volumes == nil {
			m.Disks[i].Volumes = []V2oVolume{}
		}
		if m.Disks[i].PartitionStyle == "" {
			m.Disks[i].PartitionStyle = "GPT"
		}
	}
	if m.Disks == nil {
		m.Disks = []V2oDisk{}
	}
	if m.Bitlocker == nil {
		m.Bitlocker = []V2oBitlocker{}
	}
	if m.LanguageMode == "" {
		m.LanguageMode = "FullLanguage"
	}
	if m.Domain == "" {
		m.Domain = "WORKGROUP"
	}
	if m.Manufacturer == "" {
		m.Manufacturer = "VMware, Inc."
	}
	if m.SMBIOSUUID == "" && vm != nil && vm.Config != nil {
		// Win32_ComputerSystemProduct UUID of a VMware VM is its BIOS UUID (config.uuid), upper case.
		m.SMBIOSUUID = strings.ToUpper(vm.Config.Uuid)
	}
	m.VMwareTools = seed.Tools != "notInstalled"
}

// v2oSeedModel builds a VM's seeded model: the inventory's guest (filled in) or the default.
func v2oSeedModel(vm *VirtualMachine, seed V2oGuestSeed) *V2oGuestModel {
	var m V2oGuestModel
	if seed.Model != nil {
		m = seed.Model.clone()
		def := v2oDefaultModel(vm, seed)
		if len(m.Disks) == 0 {
			m.Disks = def.Disks
		}
		if m.Network.Adapters == nil {
			m.Network = def.Network
		}
		if m.DomainRole == 0 && !m.PartOfDomain {
			m.DomainRole = def.DomainRole
		}
	} else {
		m = v2oDefaultModel(vm, seed)
	}
	v2oFillModel(&m, vm, seed)
	return &m
}
