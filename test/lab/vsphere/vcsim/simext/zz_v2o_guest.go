// v2o lab add-on compiled INTO package simulator (test-only, not upstream): guest operations
// against an in-memory Windows guest per VM. vcsim 0.24 implements guest operations only with
// Docker-backed VMs; here GuestProcessManager and GuestFileManager are replaced by types whose
// programs run in V2oGuest (files, registry, driver store, scripted rules; see
// zz_v2o_guest_cmd.go for the commands it understands).
package simulator

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// V2oGuestFilePrefix is the URL path prefix of guest file transfer URLs.
const V2oGuestFilePrefix = "/v2o-guestFile/"

// V2oISOFiles lists the files of the virtio-win ISO (relative paths, "/" separated); a CD-ROM
// backed by an ISO whose name starts with "virtio-win" shows them in the guest.
var V2oISOFiles []string

// V2oGuestSeed is what a VM's guest looks like after seeding or a reset.
type V2oGuestSeed struct {
	Username       string `json:"username"`
	Password       string `json:"password"`
	OS             string `json:"os"`             // virtio-win folder name: 2k12R2 2k16 2k19 2k22 w10 w11
	WindowsVersion string `json:"windowsVersion"` // 10.0.17763
	ProductName    string `json:"productName"`
	HostName       string `json:"hostName"`
	Controller     string `json:"controller"` // lsilogic-sas, pvscsi, sata
	Tools          string `json:"tools"`      // running, notRunning, notInstalled
	GuestID        string `json:"guestId"`
	GuestFullName  string `json:"guestFullName"`
	IPAddress      string `json:"ipAddress"`
	PowerState     string `json:"powerState"` // poweredOn, poweredOff: what a reset restores
	// Locale "de-DE": pnputil and reg answer in German, redirected output in the OEM code page
	// (CP850), as a German Windows does; verification must not read their words.
	Locale string `json:"locale,omitempty"`
	// Model: the guest's network, disks, BitLocker … (zz_v2o_guest_model.go) as seeded; nil = the
	// default for the VM's hardware. Registry: extra values seeded into the registry (inventory
	// "registry", e.g. partmgr\Parameters\SanPolicy). Both kept out of the seed's JSON views.
	Model    *V2oGuestModel         `json:"-"`
	Registry map[string]interface{} `json:"-"`
}

// v2oLegacyPnputil: Windows 8 / Server 2012 and 2012 R2 have pnputil -a/-i/-e/-d only;
// /add-driver and /enum-drivers came with Windows 10 1607 / Server 2016 (Microsoft "PnPUtil
// Command Syntax", Windows 8 page).
func (s V2oGuestSeed) v2oLegacyPnputil() bool {
	return strings.EqualFold(s.OS, "2k12") || strings.EqualFold(s.OS, "2k12R2")
}

// v2oNoWmic: wmic is disabled by default from Windows 11 24H2 and Server 2025 on (Microsoft
// "WMIC" deprecated-features page, "WMIC is disabled by default").
func (s V2oGuestSeed) v2oNoWmic() bool {
	return strings.EqualFold(s.OS, "w11") || strings.EqualFold(s.OS, "2k25")
}

func (s V2oGuestSeed) v2oGerman() bool { return strings.EqualFold(s.Locale, "de-DE") }

type v2oRegValue struct {
	Type string      `json:"type"` // REG_DWORD, REG_SZ, REG_EXPAND_SZ
	Data interface{} `json:"data"` // uint32 for REG_DWORD, string otherwise
}

// V2oDriver is one third-party package in the guest's driver store.
type V2oDriver struct {
	PublishedName string `json:"publishedName"` // oem3.inf
	OriginalName  string `json:"originalName"`  // viostor.inf
	Provider      string `json:"provider"`
	ClassName     string `json:"className"`
	ClassGUID     string `json:"classGuid"`
	Version       string `json:"version"`
	Signer        string `json:"signer"`
	Source        string `json:"source,omitempty"` // the INF path it was added from
	// StoreFolder: its folder under System32\DriverStore\FileRepository (<inf>_amd64_<hash>).
	StoreFolder string `json:"storeFolder,omitempty"`
}

// V2oRule scripts the outcome of a command: the first rule whose regexp matches a command
// (one simple command after cmd /c, powershell -Command unwrapping) decides its exit code and
// output instead of the built-in behaviour.
type V2oRule struct {
	Match    string `json:"match"`           // Go regexp, matched case-insensitively
	ExitCode int32  `json:"exitCode"`        // exit code of the command
	Stdout   string `json:"stdout"`          // written where the command's stdout goes
	Stderr   string `json:"stderr"`          // written where the command's stderr goes
	Times    int    `json:"times,omitempty"` // apply this many times, then drop the rule (0 = always)
	Apply    bool   `json:"apply,omitempty"` // also run the built-in behaviour (its effects), output from the rule
	matched  int
}

// V2oDriverFailure makes `pnputil /add-driver` fail for one driver (viostor, vioscsi, netkvm, balloon).
type V2oDriverFailure struct {
	ExitCode int32  `json:"exitCode"`
	Message  string `json:"message"`
}

type v2oProcess struct {
	info   types.GuestProcessInfo
	endsAt time.Time
	exit   int32
}

// V2oHistoryEntry records one program started in the guest, for tests to inspect.
type V2oHistoryEntry struct {
	Pid      int64     `json:"pid"`
	Program  string    `json:"program"`
	Args     string    `json:"args"`
	ExitCode int32     `json:"exitCode"`
	Stdout   string    `json:"stdout"`
	Stderr   string    `json:"stderr"`
	Started  time.Time `json:"started"`
	Commands []string  `json:"commands"` // the simple commands it ran
}

// V2oGuest is the in-memory Windows guest of one VM.
type V2oGuest struct {
	mu   sync.Mutex
	Seed V2oGuestSeed
	// files: key = normalized lower-case path, value = content; names keeps the original spelling.
	files map[string][]byte
	names map[string]string
	// registry: key = normalized lower-case key path (hklm\system\...), value name lower-case.
	reg      map[string]map[string]v2oRegValue
	regNames map[string]string // normalized key -> spelling as created
	Drivers  []V2oDriver
	// Pinned registry values: writes report success but the value stays (e.g. viostor Start = 3).
	Pinned map[string]v2oRegValue
	// FailDrivers: pnputil /add-driver fails for these driver stems.
	FailDrivers map[string]V2oDriverFailure
	// StrictOSFolder: pnputil refuses a driver from another Windows version's folder.
	StrictOSFolder bool
	// ISOMissing: files (ISO-relative, e.g. viostor\2k12\amd64\viostor.sys) this guest's
	// virtio-win ISO lacks, as an ISO from another build would.
	ISOMissing []string `json:"isoMissing,omitempty"`
	Rules      []*V2oRule
	// ProcessDuration: how long a started program reports as running before it exits.
	ProcessDuration time.Duration
	// ShutdownGuest: the VM powers off this long after the call; IgnoreShutdown: never (a hung guest).
	ShutdownDelay  time.Duration
	IgnoreShutdown bool
	procs          map[int64]*v2oProcess
	nextPid        int64
	nextOem        int
	History        []V2oHistoryEntry
	Tasks          []V2oTask     // scheduled tasks (zz_v2o_schtasks.go)
	BrokenDrivers  []string      // drivers that fail to load at boot on the target (lab knob; zz_v2o_diskstate.go)
	Model          V2oGuestModel // network identity, disks, BitLocker, language mode … (zz_v2o_guest_model.go)
}

var (
	v2oGuestsMu sync.Mutex
	v2oGuests   = map[string]*V2oGuest{} // VM moref value -> guest
	v2oSeeds    = map[string]V2oGuestSeed{}
)

var v2oSeedCDs = map[string][]*types.VirtualCdrom{} // VM moref value -> CD-ROMs as seeded

// V2oSetGuestSeed registers (and resets) the guest of a VM, and remembers its CD-ROMs so a
// reset can put them back.
func V2oSetGuestSeed(vm types.ManagedObjectReference, seed V2oGuestSeed) {
	var cds []*types.VirtualCdrom
	if obj, ok := Map.Get(vm).(*VirtualMachine); ok {
		for _, d := range obj.Config.Hardware.Device {
			if cd, ok := d.(*types.VirtualCdrom); ok {
				cds = append(cds, v2oCloneCdrom(cd))
			}
		}
	}
	obj, _ := Map.Get(vm).(*VirtualMachine)
	seed.Model = v2oSeedModel(obj, seed)
	v2oGuestsMu.Lock()
	v2oSeeds[vm.Value] = seed
	v2oSeedCDs[vm.Value] = cds
	v2oGuestsMu.Unlock()
	v2oResetGuest(vm.Value)
}

func v2oCloneCdrom(cd *types.VirtualCdrom) *types.VirtualCdrom {
	c := *cd
	if cd.Connectable != nil {
		cc := *cd.Connectable
		c.Connectable = &cc
	}
	if cd.UnitNumber != nil {
		u := *cd.UnitNumber
		c.UnitNumber = &u
	}
	if cd.DeviceInfo != nil {
		di := *cd.DeviceInfo.GetDescription()
		c.DeviceInfo = &di
	}
	switch b := cd.Backing.(type) {
	case *types.VirtualCdromRemotePassthroughBackingInfo:
		bb := *b
		c.Backing = &bb
	case *types.VirtualCdromIsoBackingInfo:
		bb := *b
		c.Backing = &bb
	case *types.VirtualCdromAtapiBackingInfo:
		bb := *b
		c.Backing = &bb
	case *types.VirtualCdromRemoteAtapiBackingInfo:
		bb := *b
		c.Backing = &bb
	case *types.VirtualCdromPassthroughBackingInfo:
		bb := *b
		c.Backing = &bb
	}
	return &c
}

// v2oRestoreCDs puts the VM's CD-ROMs back as seeded (added ones removed, backings restored).
func v2oRestoreCDs(vm *VirtualMachine) {
	v2oGuestsMu.Lock()
	seeded := v2oSeedCDs[vm.Self.Value]
	v2oGuestsMu.Unlock()
	var devices []types.BaseVirtualDevice
	for _, d := range vm.Config.Hardware.Device {
		if _, ok := d.(*types.VirtualCdrom); !ok {
			devices = append(devices, d)
		}
	}
	for _, cd := range seeded {
		devices = append(devices, v2oCloneCdrom(cd))
	}
	Map.Update(vm, []types.PropertyChange{{Name: "config.hardware.device", Val: devices}})
}

func v2oResetGuest(vm string) *V2oGuest {
	v2oGuestsMu.Lock()
	defer v2oGuestsMu.Unlock()
	seed, ok := v2oSeeds[vm]
	if !ok {
		return nil
	}
	g := newV2oGuest(seed)
	v2oGuests[vm] = g
	return g
}

func v2oGuestOf(vm string) *V2oGuest {
	v2oGuestsMu.Lock()
	defer v2oGuestsMu.Unlock()
	return v2oGuests[vm]
}

func newV2oGuest(seed V2oGuestSeed) *V2oGuest {
	g := &V2oGuest{
		Seed:            seed,
		files:           map[string][]byte{},
		names:           map[string]string{},
		reg:             map[string]map[string]v2oRegValue{},
		regNames:        map[string]string{},
		Pinned:          map[string]v2oRegValue{},
		FailDrivers:     map[string]V2oDriverFailure{},
		StrictOSFolder:  true,
		ProcessDuration: 100 * time.Millisecond,
		ShutdownDelay:   500 * time.Millisecond,
		procs:           map[int64]*v2oProcess{},
		nextPid:         4100,
		nextOem:         1,
	}
	if seed.Model != nil {
		g.Model = seed.Model.clone()
	}
	for _, dir := range []string{`C:\Windows`, `C:\Windows\System32`, `C:\Windows\Temp`, `C:\Users\Administrator`, `C:\ProgramData`} {
		g.mkdir(dir)
	}
	g.writeFile(`C:\Windows\System32\drivers\etc\hosts`, []byte("127.0.0.1 localhost\r\n"))
	ver := `HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion`
	g.regSet(ver, "ProductName", v2oRegValue{"REG_SZ", seed.ProductName})
	parts := strings.Split(seed.WindowsVersion, ".")
	if len(parts) == 3 {
		g.regSet(ver, "CurrentBuild", v2oRegValue{"REG_SZ", parts[2]})
		g.regSet(ver, "CurrentVersion", v2oRegValue{"REG_SZ", parts[0] + "." + parts[1]})
	}
	g.regSet(`HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName`, "ComputerName", v2oRegValue{"REG_SZ", seed.HostName})
	svc := func(name string, start uint32, image string) {
		k := `HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\` + name
		g.regSet(k, "Start", v2oRegValue{"REG_DWORD", start})
		g.regSet(k, "Type", v2oRegValue{"REG_DWORD", uint32(1)})
		g.regSet(k, "ErrorControl", v2oRegValue{"REG_DWORD", uint32(3)})
		g.regSet(k, "ImagePath", v2oRegValue{"REG_EXPAND_SZ", `System32\drivers\` + image})
		// In-box drivers are files in System32\drivers like any other.
		g.writeFile(`C:\Windows\System32\drivers\`+image, []byte("MZ in-box "+image+" (v2o lab)\r\n"))
	}
	// In-box storage drivers, boot-critical for the VMware controller in use.
	svc("disk", 0, "disk.sys")
	svc("storahci", map[bool]uint32{true: 0, false: 3}[seed.Controller == "sata"], "storahci.sys")
	g.regSet(`HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\storahci`, "Group", v2oRegValue{"REG_SZ", "SCSI miniport"})
	if seed.Controller != "sata" {
		// Windows 8 and later keep a per-boot-configuration override that wins over Start; a VM
		// installed on LSI/pvscsi has storahci disabled there too (community-documented fix for 0x7B
		// after a switch to AHCI: remove StartOverride or set its 0 to 0; medium confidence).
		g.regSet(`HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\storahci\StartOverride`, "0", v2oRegValue{"REG_DWORD", uint32(3)})
	}
	svc("LSI_SAS", map[bool]uint32{true: 0, false: 3}[seed.Controller == "lsilogic-sas"], "lsi_sas.sys")
	// VMware Tools' drivers.
	g.addDriver(V2oDriver{OriginalName: "vmxnet3.inf", Provider: "VMware, Inc.", ClassName: "Network adapters",
		ClassGUID: "{4d36e972-e325-11ce-bfc1-08002be10318}", Version: "04/09/2023 1.9.12.0", Signer: "Microsoft Windows Hardware Compatibility Publisher"})
	svc("vmxnet3ndis6", 3, "vmxnet3.sys")
	// partmgr\Parameters holds SanPolicy when someone set it (diskpart "san policy=", Microsoft
	// "san" diskpart page); unset, Windows Server brings new shared disks up offline (OfflineShared).
	g.regSet(`HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\partmgr\Parameters`, "", v2oRegValue{})
	// Keys every Windows has, so Get-ItemProperty finds them (values the readiness checks read are
	// absent unless set): time zone, power, session manager, servicing, Windows Update, policies.
	hklm := `HKEY_LOCAL_MACHINE\`
	g.regSet(hklm+`SYSTEM\CurrentControlSet\Control\TimeZoneInformation`, "TimeZoneKeyName", v2oRegValue{"REG_SZ", "UTC"})
	g.regSet(hklm+`SYSTEM\CurrentControlSet\Control\Session Manager`, "BootExecute", v2oRegValue{"REG_MULTI_SZ", []string{"autocheck autochk *"}})
	for _, k := range []string{`SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing`,
		`SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update`, `SOFTWARE\Policies\Microsoft\Windows`} {
		g.regSet(hklm+k, "", v2oRegValue{})
	}
	// Fast Startup and hibernation: on by default on Windows 10/11 where the firmware offers S4,
	// which a VMware VM does (Microsoft "Distinguish Fast Startup from a full shutdown": Fast
	// Startup is the default on client Windows; hiberfil.sys holds the kernel session); Windows
	// Server has no Fast Startup and hibernation off.
	client := map[bool]uint32{true: 1, false: 0}[seed.v2oClient()]
	g.regSet(hklm+`SYSTEM\CurrentControlSet\Control\Session Manager\Power`, "HiberbootEnabled", v2oRegValue{"REG_DWORD", client})
	g.regSet(hklm+`SYSTEM\CurrentControlSet\Control\Power`, "HibernateEnabled", v2oRegValue{"REG_DWORD", client})
	if seed.v2oClient() {
		g.writeFile(`C:\hiberfil.sys`, []byte("hiberfil (v2o lab)\r\n"))
	}
	for p, val := range seed.Registry {
		if rv, err := v2oJSONValue(val); err == nil {
			key, name := v2oSplitValuePath(p)
			g.regSet(key, name, rv)
		}
	}
	if seed.Controller == "pvscsi" {
		g.addDriver(V2oDriver{OriginalName: "pvscsi.inf", Provider: "VMware, Inc.", ClassName: "Storage controllers",
			ClassGUID: "{4d36e97b-e325-11ce-bfc1-08002be10318}", Version: "02/23/2023 1.3.26.0", Signer: "Microsoft Windows Hardware Compatibility Publisher"})
		svc("pvscsi", 0, "pvscsii.sys")
	}
	return g
}

// --- paths and files -------------------------------------------------------------------

func v2oNormPath(p string) string {
	p = strings.ReplaceAll(strings.TrimSpace(p), "/", `\`)
	for strings.Contains(p, `\\`) {
		p = strings.ReplaceAll(p, `\\`, `\`)
	}
	if len(p) > 3 && strings.HasSuffix(p, `\`) {
		p = strings.TrimSuffix(p, `\`)
	}
	return strings.ToLower(p)
}

func (g *V2oGuest) mkdir(p string) {
	// Directories are files ending in a marker so listings can show them.
	for {
		n := v2oNormPath(p)
		if _, ok := g.names[n]; ok || len(n) <= 3 {
			return
		}
		g.names[n] = strings.TrimSuffix(strings.ReplaceAll(p, "/", `\`), `\`)
		g.files[n] = nil
		i := strings.LastIndex(n, `\`)
		if i <= 2 {
			return
		}
		p = p[:i]
	}
}

func (g *V2oGuest) isDir(p string) bool {
	n := v2oNormPath(p)
	if len(n) == 2 || len(n) == 3 { // C: or C:\
		return true
	}
	c, ok := g.files[n]
	return ok && c == nil
}

func (g *V2oGuest) writeFile(p string, data []byte) {
	n := v2oNormPath(p)
	if i := strings.LastIndex(p, `\`); i > 2 {
		g.mkdir(p[:i])
	}
	if data == nil {
		data = []byte{}
	}
	g.names[n] = strings.ReplaceAll(p, "/", `\`)
	g.files[n] = data
}

func (g *V2oGuest) readFile(p string) ([]byte, bool) {
	c, ok := g.files[v2oNormPath(p)]
	if !ok || c == nil {
		return nil, false
	}
	return c, true
}

// cdDrives returns drive letter (D:, E:, ...) -> ISO file name for the VM's CD-ROMs, in device order.
func v2oCDDrives(vm *VirtualMachine) (letters []string, isos map[string]string) {
	isos = map[string]string{}
	if vm == nil || vm.Config == nil {
		return nil, isos
	}
	var keys []int
	cds := map[int]*types.VirtualCdrom{}
	for _, d := range vm.Config.Hardware.Device {
		if cd, ok := d.(*types.VirtualCdrom); ok {
			keys = append(keys, int(cd.Key))
			cds[int(cd.Key)] = cd
		}
	}
	sort.Ints(keys)
	for i, k := range keys {
		letter := string(rune('D'+i)) + ":"
		letters = append(letters, letter)
		if b, ok := cds[k].Backing.(*types.VirtualCdromIsoBackingInfo); ok {
			if cds[k].Connectable == nil || cds[k].Connectable.Connected || vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn || cds[k].Connectable.StartConnected {
				// vcsim never checks the ISO; a guest sees no media when the file is not there.
				if local, ok := v2oLocalDatastoreFile(b.FileName); ok {
					if _, err := os.Stat(local); err == nil {
						isos[letter] = b.FileName
					}
				}
			}
		}
	}
	return letters, isos
}

// isoFile reports whether path is a file on a mounted virtio-win ISO.
func v2oISOHas(isos map[string]string, p string) (bool, bool) {
	n := v2oNormPath(p)
	if len(n) < 2 {
		return false, false
	}
	iso, ok := isos[strings.ToUpper(n[:2])]
	if !ok || !v2oIsVirtioISO(iso) {
		return false, false
	}
	rel := strings.TrimPrefix(n[2:], `\`)
	if rel == "" {
		return true, true
	}
	for _, f := range V2oISOFiles {
		lf := strings.ToLower(strings.ReplaceAll(f, "/", `\`))
		if lf == rel {
			return true, false
		}
		if strings.HasPrefix(lf, rel+`\`) {
			return true, true
		}
	}
	return false, false
}

// V2oISOPath and V2oISOLabel describe the lab's virtio-win ISO (set by main).
var V2oISOPath, V2oISOLabel string

var v2oISOSums sync.Map // "path|size|mtime" -> bool (same content as the lab ISO)

func v2oLocalDatastoreFile(fileName string) (string, bool) {
	var p object.DatastorePath
	if !p.FromString(fileName) {
		return "", false
	}
	for _, e := range Map.All("Datastore") {
		if ds, ok := e.(*Datastore); ok && ds.Name == p.Datastore {
			return path.Join(ds.Info.GetDatastoreInfo().Url, p.Path), true
		}
	}
	return "", false
}

func v2oFileSHA(p string) string {
	f, err := os.Open(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	_, _ = io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil))
}

// v2oIsVirtioISO: an ISO shows the virtio-win layout when it is named virtio-win* or has the
// lab ISO's content (whatever its name on the datastore).
func v2oIsVirtioISO(fileName string) bool {
	if strings.HasPrefix(strings.ToLower(isoBase(fileName)), "virtio-win") {
		return true
	}
	local, ok := v2oLocalDatastoreFile(fileName)
	if !ok || V2oISOPath == "" {
		return false
	}
	st, err := os.Stat(local)
	ref, err2 := os.Stat(V2oISOPath)
	if err != nil || err2 != nil || st.Size() != ref.Size() {
		return false
	}
	key := local + "|" + strconv.FormatInt(st.Size(), 10) + "|" + strconv.FormatInt(st.ModTime().UnixNano(), 10)
	if v, ok := v2oISOSums.Load(key); ok {
		return v.(bool)
	}
	same := v2oFileSHA(local) == v2oFileSHA(V2oISOPath)
	v2oISOSums.Store(key, same)
	return same
}

func isoBase(p string) string {
	if i := strings.LastIndexAny(p, `/\] `); i >= 0 {
		return p[i+1:]
	}
	return p
}

// --- registry --------------------------------------------------------------------------

func v2oNormKey(k string) string {
	k = strings.Trim(strings.TrimSpace(k), `"'`)
	k = strings.TrimSuffix(strings.ReplaceAll(k, "/", `\`), `\`)
	low := strings.ToLower(k)
	for short, long := range map[string]string{"hklm:": "hkey_local_machine", "hklm": "hkey_local_machine", "hkcu:": "hkey_current_user", "hkcu": "hkey_current_user"} {
		if low == short || strings.HasPrefix(low, short+`\`) {
			k = strings.ToUpper(long) + k[len(short):]
			break
		}
	}
	k = strings.TrimPrefix(k, `Registry::`)
	return k
}

func (g *V2oGuest) regSet(key, name string, v v2oRegValue) {
	k := v2oNormKey(key)
	lk := strings.ToLower(k)
	if _, ok := g.reg[lk]; !ok {
		g.reg[lk] = map[string]v2oRegValue{}
		g.regNames[lk] = k
	}
	if name == "" {
		return
	}
	if _, pinned := g.Pinned[lk+`\`+strings.ToLower(name)]; pinned {
		return
	}
	g.reg[lk][strings.ToLower(name)] = v
	g.regNames[lk+"|"+strings.ToLower(name)] = name
}

func (g *V2oGuest) regGet(key, name string) (v2oRegValue, bool, bool) {
	lk := strings.ToLower(v2oNormKey(key))
	vals, ok := g.reg[lk]
	if !ok {
		return v2oRegValue{}, false, false
	}
	v, ok := vals[strings.ToLower(name)]
	return v, true, ok
}

// addDriver stages a package as Windows does (Microsoft "Driver Store"): a folder
// DriverStore\FileRepository\<inf>_amd64_<hash> with the package's files, the INF copied to
// %SystemRoot%\INF\oemN.inf, and its hardware ids in SYSTEM\DriverDatabase (lxc/distrobuilder
// windows/driver_viostor.go shows the keys of a staged viostor). Staging installs nothing: no
// service key, no file in System32\drivers — that happens only when a device takes the driver.
func (g *V2oGuest) addDriver(d V2oDriver) V2oDriver {
	d.PublishedName = "oem" + itoa(g.nextOem) + ".inf"
	g.nextOem++
	stem := strings.TrimSuffix(strings.ToLower(d.OriginalName), ".inf")
	sum := sha256.Sum256([]byte(d.OriginalName + "|" + d.Source + "|" + d.Version))
	d.StoreFolder = strings.ToLower(d.OriginalName) + "_amd64_" + hex.EncodeToString(sum[:8])
	dir := `C:\Windows\System32\DriverStore\FileRepository\` + d.StoreFolder
	inf := []byte("; " + d.OriginalName + " staged by the v2o lab from " + d.Source + "\r\n")
	g.writeFile(dir+`\`+d.OriginalName, inf)
	if _, ok := v2oDriverInfo[stem]; ok {
		g.writeFile(dir+`\`+stem+".sys", []byte("MZ "+stem+".sys (v2o lab, from "+d.Source+")\r\n"))
		g.writeFile(dir+`\`+stem+".cat", []byte("catalog "+stem+"\r\n"))
	}
	g.writeFile(`C:\Windows\INF\`+d.PublishedName, inf)
	db := `HKEY_LOCAL_MACHINE\SYSTEM\DriverDatabase`
	g.regSet(db+`\DriverInfFiles\`+d.PublishedName, "Active", v2oRegValue{"REG_SZ", d.StoreFolder})
	for _, id := range v2oPCIIDs[stem] {
		g.regSet(db+`\DeviceIds\PCI\`+id, d.PublishedName, v2oRegValue{"REG_BINARY", "02ff0000"})
	}
	g.Drivers = append(g.Drivers, d)
	return d
}

func (g *V2oGuest) isoMissing(p string) bool {
	n := v2oNormPath(p)
	for _, m := range g.ISOMissing {
		if len(n) > 3 && strings.EqualFold(n[3:], v2oNormPath(m)) {
			return true
		}
	}
	return false
}

// unstage removes what addDriver wrote (pnputil /delete-driver, or a test removing a package).
func (g *V2oGuest) unstage(d V2oDriver) {
	for _, p := range []string{`C:\Windows\System32\DriverStore\FileRepository\` + d.StoreFolder, `C:\Windows\INF\` + d.PublishedName} {
		n := v2oNormPath(p)
		for k := range g.files {
			if d.StoreFolder != "" && (k == n || strings.HasPrefix(k, n+`\`)) {
				delete(g.files, k)
				delete(g.names, k)
			}
		}
	}
	db := `hkey_local_machine\system\driverdatabase`
	delete(g.reg, db+`\driverinffiles\`+strings.ToLower(d.PublishedName))
	for k, vals := range g.reg {
		if strings.HasPrefix(k, db+`\deviceids\`) {
			delete(vals, strings.ToLower(d.PublishedName))
		}
	}
}

// v2oPCIIDs: the virtio PCI ids a package maps in the DriverDatabase (transitional / modern;
// virtio-win INFs, libguestfs-common inject_virtio_win.ml).
var v2oPCIIDs = map[string][]string{
	"viostor": {"VEN_1AF4&DEV_1001", "VEN_1AF4&DEV_1042"},
	"vioscsi": {"VEN_1AF4&DEV_1004", "VEN_1AF4&DEV_1048"},
	"netkvm":  {"VEN_1AF4&DEV_1000", "VEN_1AF4&DEV_1041"},
	"balloon": {"VEN_1AF4&DEV_1002", "VEN_1AF4&DEV_1045"},
	"vioser":  {"VEN_1AF4&DEV_1003", "VEN_1AF4&DEV_1043"},
}

// --- guest operations ------------------------------------------------------------------

// v2oGuestCheck validates a guest operation like ESXi does: VM on, VMware Tools running, credentials.
func v2oGuestCheck(ctx *Context, ref types.ManagedObjectReference, auth types.BaseGuestAuthentication) (*VirtualMachine, *V2oGuest, types.BaseMethodFault) {
	vm, ok := ctx.Map.Get(ref).(*VirtualMachine)
	if !ok {
		return nil, nil, &types.ManagedObjectNotFound{Obj: ref}
	}
	if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		return nil, nil, &types.InvalidPowerState{RequestedState: types.VirtualMachinePowerStatePoweredOn, ExistingState: vm.Runtime.PowerState}
	}
	if vm.Guest == nil || vm.Guest.ToolsRunningStatus != string(types.VirtualMachineToolsRunningStatusGuestToolsRunning) {
		return nil, nil, new(types.GuestOperationsUnavailable)
	}
	g := v2oGuestOf(vm.Self.Value)
	if g == nil {
		return nil, nil, new(types.GuestOperationsUnavailable)
	}
	creds, ok := auth.(*types.NamePasswordAuthentication)
	if !ok {
		return nil, nil, new(types.InvalidGuestLogin)
	}
	user := creds.Username
	if i := strings.LastIndex(user, `\`); i >= 0 { // DOMAIN\user or .\user
		user = user[i+1:]
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !strings.EqualFold(user, g.Seed.Username) || creds.Password != g.Seed.Password {
		return nil, nil, new(types.InvalidGuestLogin)
	}
	return vm, g, nil
}

// V2oGuestProcessManager replaces vcsim's GuestProcessManager.
type V2oGuestProcessManager struct {
	mo.GuestProcessManager
}

func (m *V2oGuestProcessManager) StartProgramInGuest(ctx *Context, req *types.StartProgramInGuest) soap.HasFault {
	body := new(methods.StartProgramInGuestBody)
	vm, g, fault := v2oGuestCheck(ctx, req.Vm, req.Auth)
	if fault != nil {
		body.Fault_ = Fault("", fault)
		return body
	}
	spec, ok := req.Spec.(*types.GuestProgramSpec)
	if !ok {
		if ws, ok2 := req.Spec.(*types.GuestWindowsProgramSpec); ok2 {
			spec = &ws.GuestProgramSpec
		} else {
			body.Fault_ = Fault("", &types.InvalidArgument{InvalidProperty: "spec"})
			return body
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	pid, fault := g.start(vm, spec)
	if fault != nil {
		body.Fault_ = Fault("", fault)
		return body
	}
	body.Res = &types.StartProgramInGuestResponse{Returnval: pid}
	return body
}

func (m *V2oGuestProcessManager) ListProcessesInGuest(ctx *Context, req *types.ListProcessesInGuest) soap.HasFault {
	body := new(methods.ListProcessesInGuestBody)
	_, g, fault := v2oGuestCheck(ctx, req.Vm, req.Auth)
	if fault != nil {
		body.Fault_ = Fault("", fault)
		return body
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	var out []types.GuestProcessInfo
	add := func(p *v2oProcess) {
		info := p.info
		if !now.Before(p.endsAt) {
			end := p.endsAt
			info.EndTime = &end
			info.ExitCode = p.exit
		}
		out = append(out, info)
	}
	if len(req.Pids) == 0 {
		var pids []int64
		for pid := range g.procs {
			pids = append(pids, pid)
		}
		sort.Slice(pids, func(i, j int) bool { return pids[i] < pids[j] })
		for _, pid := range pids {
			add(g.procs[pid])
		}
	}
	for _, pid := range req.Pids {
		if p, ok := g.procs[pid]; ok {
			add(p)
		}
	}
	body.Res = &types.ListProcessesInGuestResponse{Returnval: out}
	return body
}

func (m *V2oGuestProcessManager) TerminateProcessInGuest(ctx *Context, req *types.TerminateProcessInGuest) soap.HasFault {
	body := new(methods.TerminateProcessInGuestBody)
	_, g, fault := v2oGuestCheck(ctx, req.Vm, req.Auth)
	if fault != nil {
		body.Fault_ = Fault("", fault)
		return body
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	p, ok := g.procs[req.Pid]
	if !ok {
		body.Fault_ = Fault("", &types.GuestProcessNotFound{Pid: req.Pid})
		return body
	}
	if time.Now().Before(p.endsAt) {
		p.endsAt = time.Now()
		p.exit = 1
	}
	body.Res = new(types.TerminateProcessInGuestResponse)
	return body
}

func (m *V2oGuestProcessManager) ReadEnvironmentVariableInGuest(ctx *Context, req *types.ReadEnvironmentVariableInGuest) soap.HasFault {
	body := new(methods.ReadEnvironmentVariableInGuestBody)
	_, g, fault := v2oGuestCheck(ctx, req.Vm, req.Auth)
	if fault != nil {
		body.Fault_ = Fault("", fault)
		return body
	}
	g.mu.Lock()
	env := g.env()
	g.mu.Unlock()
	var out []string
	for _, kv := range env {
		name := strings.SplitN(kv, "=", 2)[0]
		if len(req.Names) == 0 {
			out = append(out, kv)
			continue
		}
		for _, n := range req.Names {
			if strings.EqualFold(n, name) {
				out = append(out, kv)
			}
		}
	}
	body.Res = &types.ReadEnvironmentVariableInGuestResponse{Returnval: out}
	return body
}

// V2oGuestFileManager replaces vcsim's GuestFileManager.
type V2oGuestFileManager struct {
	mo.GuestFileManager
}

type v2oTransfer struct {
	vm        string
	path      string
	upload    bool
	overwrite bool
	expires   time.Time
}

var v2oTransfers sync.Map // token -> *v2oTransfer

func v2oTransferURL(t *v2oTransfer) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	v2oTransfers.Store(token, t)
	return (&url.URL{Scheme: "https", Host: "*", Path: V2oGuestFilePrefix + token}).String()
}

func (m *V2oGuestFileManager) InitiateFileTransferToGuest(ctx *Context, req *types.InitiateFileTransferToGuest) soap.HasFault {
	body := new(methods.InitiateFileTransferToGuestBody)
	vm, g, fault := v2oGuestCheck(ctx, req.Vm, req.Auth)
	if fault != nil {
		body.Fault_ = Fault("", fault)
		return body
	}
	g.mu.Lock()
	_, exists := g.files[v2oNormPath(req.GuestFilePath)]
	isDir := g.isDir(req.GuestFilePath)
	g.mu.Unlock()
	if isDir {
		body.Fault_ = Fault("", &types.NotAFile{FileFault: types.FileFault{File: req.GuestFilePath}})
		return body
	}
	if exists && !req.Overwrite {
		body.Fault_ = Fault("", &types.FileAlreadyExists{FileFault: types.FileFault{File: req.GuestFilePath}})
		return body
	}
	body.Res = &types.InitiateFileTransferToGuestResponse{Returnval: v2oTransferURL(&v2oTransfer{
		vm: vm.Self.Value, path: req.GuestFilePath, upload: true, overwrite: req.Overwrite, expires: time.Now().Add(10 * time.Minute),
	})}
	return body
}

func (m *V2oGuestFileManager) InitiateFileTransferFromGuest(ctx *Context, req *types.InitiateFileTransferFromGuest) soap.HasFault {
	body := new(methods.InitiateFileTransferFromGuestBody)
	vm, g, fault := v2oGuestCheck(ctx, req.Vm, req.Auth)
	if fault != nil {
		body.Fault_ = Fault("", fault)
		return body
	}
	g.mu.Lock()
	data, ok := g.readFile(req.GuestFilePath)
	g.mu.Unlock()
	if !ok {
		body.Fault_ = Fault("", &types.FileNotFound{FileFault: types.FileFault{File: req.GuestFilePath}})
		return body
	}
	now := time.Now()
	body.Res = &types.InitiateFileTransferFromGuestResponse{Returnval: types.FileTransferInformation{
		Attributes: &types.GuestWindowsFileAttributes{
			GuestFileAttributes: types.GuestFileAttributes{ModificationTime: &now, AccessTime: &now},
			CreateTime:          &now,
		},
		Size: int64(len(data)),
		Url: v2oTransferURL(&v2oTransfer{
			vm: vm.Self.Value, path: req.GuestFilePath, expires: now.Add(10 * time.Minute),
		}),
	}}
	return body
}

func (m *V2oGuestFileManager) MakeDirectoryInGuest(ctx *Context, req *types.MakeDirectoryInGuest) soap.HasFault {
	body := new(methods.MakeDirectoryInGuestBody)
	_, g, fault := v2oGuestCheck(ctx, req.Vm, req.Auth)
	if fault != nil {
		body.Fault_ = Fault("", fault)
		return body
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.files[v2oNormPath(req.DirectoryPath)]; ok {
		body.Fault_ = Fault("", &types.FileAlreadyExists{FileFault: types.FileFault{File: req.DirectoryPath}})
		return body
	}
	g.mkdir(req.DirectoryPath)
	body.Res = new(types.MakeDirectoryInGuestResponse)
	return body
}

func (m *V2oGuestFileManager) DeleteFileInGuest(ctx *Context, req *types.DeleteFileInGuest) soap.HasFault {
	body := new(methods.DeleteFileInGuestBody)
	_, g, fault := v2oGuestCheck(ctx, req.Vm, req.Auth)
	if fault != nil {
		body.Fault_ = Fault("", fault)
		return body
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.readFile(req.FilePath); !ok {
		body.Fault_ = Fault("", &types.FileNotFound{FileFault: types.FileFault{File: req.FilePath}})
		return body
	}
	n := v2oNormPath(req.FilePath)
	delete(g.files, n)
	delete(g.names, n)
	body.Res = new(types.DeleteFileInGuestResponse)
	return body
}

// DeleteDirectoryInGuest as ESXi (vSphere API GuestFileManager.DeleteDirectoryInGuest): a missing
// path FileNotFound, a file NotADirectory, a non-empty folder without recursive DirectoryNotEmpty.
func (m *V2oGuestFileManager) DeleteDirectoryInGuest(ctx *Context, req *types.DeleteDirectoryInGuest) soap.HasFault {
	body := new(methods.DeleteDirectoryInGuestBody)
	_, g, fault := v2oGuestCheck(ctx, req.Vm, req.Auth)
	if fault != nil {
		body.Fault_ = Fault("", fault)
		return body
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	n := v2oNormPath(req.DirectoryPath)
	c, ok := g.files[n]
	ff := types.FileFault{File: req.DirectoryPath}
	switch {
	case !ok:
		body.Fault_ = Fault("", &types.FileNotFound{FileFault: ff})
		return body
	case c != nil:
		body.Fault_ = Fault("", &types.NotADirectory{FileFault: ff})
		return body
	}
	var under []string
	for k := range g.files {
		if strings.HasPrefix(k, n+`\`) {
			under = append(under, k)
		}
	}
	if len(under) > 0 && !req.Recursive {
		body.Fault_ = Fault("", &types.DirectoryNotEmpty{FileFault: ff})
		return body
	}
	for _, k := range append(under, n) {
		delete(g.files, k)
		delete(g.names, k)
	}
	body.Res = new(types.DeleteDirectoryInGuestResponse)
	return body
}

func (m *V2oGuestFileManager) CreateTemporaryFileInGuest(ctx *Context, req *types.CreateTemporaryFileInGuest) soap.HasFault {
	body := new(methods.CreateTemporaryFileInGuestBody)
	_, g, fault := v2oGuestCheck(ctx, req.Vm, req.Auth)
	if fault != nil {
		body.Fault_ = Fault("", fault)
		return body
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	dir := req.DirectoryPath
	if dir == "" {
		dir = `C:\Users\` + g.Seed.Username + `\AppData\Local\Temp`
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	p := strings.TrimSuffix(dir, `\`) + `\` + req.Prefix + hex.EncodeToString(b) + req.Suffix
	g.writeFile(p, []byte{})
	body.Res = &types.CreateTemporaryFileInGuestResponse{Returnval: p}
	return body
}

// V2oServeGuestFile serves the URLs InitiateFileTransfer{To,From}Guest return.
func V2oServeGuestFile(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimPrefix(r.URL.Path, V2oGuestFilePrefix)
	v, ok := v2oTransfers.Load(token)
	if !ok {
		http.NotFound(w, r)
		return
	}
	t := v.(*v2oTransfer)
	if time.Now().After(t.expires) {
		v2oTransfers.Delete(token)
		http.Error(w, "transfer URL expired", http.StatusNotFound)
		return
	}
	g := v2oGuestOf(t.vm)
	if g == nil {
		http.NotFound(w, r)
		return
	}
	switch {
	case t.upload && r.Method == http.MethodPut:
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, 512<<20)); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		g.mu.Lock()
		g.writeFile(t.path, buf.Bytes())
		g.mu.Unlock()
		v2oTransfers.Delete(token)
		w.WriteHeader(http.StatusOK)
	case !t.upload && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		g.mu.Lock()
		data, ok := g.readFile(t.path)
		g.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
