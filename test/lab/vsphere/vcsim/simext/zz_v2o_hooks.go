// v2o lab add-on compiled INTO package simulator (test-only): installs the add-ons and serves
// the test hooks under /v2o-ext/ (JSON over HTTP, no session; documented in
// test/lab/vsphere/README.md). VMware Tools follow the power state here (vcsim leaves them
// fixed): powered off → guestToolsNotRunning, powered on → the VM's seeded tools state.
package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// V2oInstall replaces the guest operation managers and registers the add-on handlers on mux.
func V2oInstall(mux *http.ServeMux) {
	for _, id := range []string{
		"windows2019srv_64Guest", "windows2019srvNext_64Guest", "windows2022srvNext_64Guest",
		"windows11_64Guest", "windows12_64Guest",
	} {
		GuestID = append(GuestID, types.VirtualMachineGuestOsIdentifier(id))
	}
	gom := Map.Get(*Map.content().GuestOperationsManager).(*GuestOperationsManager)
	pm := &V2oGuestProcessManager{}
	pm.Self = *gom.ProcessManager
	Map.Put(pm)
	fm := &V2oGuestFileManager{}
	fm.Self = *gom.FileManager
	Map.Put(fm)
	Map.AddHandler(v2oPowerWatcher{})
	go v2oExpireLeases()

	mux.HandleFunc(V2oNFCPrefix, V2oServeNFC)
	mux.HandleFunc(V2oGuestFilePrefix, V2oServeGuestFile)
	mux.HandleFunc("/v2o-ext/vms", v2oHookVMs)
	mux.HandleFunc("/v2o-ext/guest", v2oHookTools)
	mux.HandleFunc("/v2o-ext/guest/state", v2oHookGuestState)
	mux.HandleFunc("/v2o-ext/guest/rules", v2oHookRules)
	mux.HandleFunc("/v2o-ext/reset", v2oHookReset)
	mux.HandleFunc("/v2o-ext/leases/stats", v2oHookLeaseStats)
	mux.HandleFunc("/v2o-ext/leases/stats/reset", v2oHookLeaseStatsReset)
	v2oInstallCbt(mux)
}

// V2oRequireSession wraps the server's handler so datastore HTTP access (/folder/...) needs a
// valid session cookie, as on vCenter (vcsim 0.24 serves it to anyone). 401 otherwise, which a
// client answers by logging in again.
func V2oRequireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, folderPrefix) {
			c, err := r.Cookie(soap.SessionCookieName)
			if err != nil {
				http.Error(w, "datastore access needs a session cookie", http.StatusUnauthorized)
				return
			}
			if _, ok := Map.SessionManager().getSession(c.Value); !ok {
				http.Error(w, "session expired or logged out", http.StatusUnauthorized)
				return
			}
			// a read of a VM's disk holds its host while it is served (zz_v2o_leasestats.go)
			defer v2oCountDatastoreRead(r)()
		}
		next.ServeHTTP(w, r)
	})
}

// V2oSetTools sets a VM's VMware Tools / guest identity properties: "running", "notRunning" or
// "notInstalled", with the identity from its guest seed.
func V2oSetTools(vm *VirtualMachine, state string) {
	v2oGuestsMu.Lock()
	seed := v2oSeeds[vm.Self.Value]
	v2oGuestsMu.Unlock()
	g := *vm.Guest
	switch state {
	case "running":
		g.ToolsStatus = types.VirtualMachineToolsStatusToolsOk
		g.ToolsRunningStatus = string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)
		g.ToolsVersionStatus = string(types.VirtualMachineToolsVersionStatusGuestToolsCurrent)
		g.ToolsVersionStatus2 = string(types.VirtualMachineToolsVersionStatusGuestToolsCurrent)
		g.ToolsVersion = "12389"
		g.GuestState = "running"
		g.GuestId = seed.GuestID
		g.GuestFamily = string(types.VirtualMachineGuestOsFamilyWindowsGuest)
		g.GuestFullName = seed.GuestFullName
		g.HostName = seed.HostName
		g.IpAddress = seed.IPAddress
	case "notRunning":
		g.ToolsStatus = types.VirtualMachineToolsStatusToolsNotRunning
		g.ToolsRunningStatus = string(types.VirtualMachineToolsRunningStatusGuestToolsNotRunning)
		g.ToolsVersionStatus = string(types.VirtualMachineToolsVersionStatusGuestToolsCurrent)
		g.ToolsVersionStatus2 = string(types.VirtualMachineToolsVersionStatusGuestToolsCurrent)
		g.ToolsVersion = "12389"
		g.GuestState = "notRunning"
		g.IpAddress = ""
	default:
		g.ToolsStatus = types.VirtualMachineToolsStatusToolsNotInstalled
		g.ToolsRunningStatus = string(types.VirtualMachineToolsRunningStatusGuestToolsNotRunning)
		g.ToolsVersionStatus = string(types.VirtualMachineToolsVersionStatusGuestToolsNotInstalled)
		g.ToolsVersionStatus2 = string(types.VirtualMachineToolsVersionStatusGuestToolsNotInstalled)
		g.ToolsVersion = "0"
		g.GuestState = "notRunning"
		g.IpAddress = ""
	}
	v2oUpdateGuest(vm, &g)
}

func v2oUpdateGuest(vm *VirtualMachine, g *types.GuestInfo) {
	sg := types.VirtualMachineGuestSummary{}
	if vm.Summary.Guest != nil {
		sg = *vm.Summary.Guest
	}
	sg.ToolsStatus = g.ToolsStatus
	sg.ToolsRunningStatus = g.ToolsRunningStatus
	sg.ToolsVersionStatus = g.ToolsVersionStatus
	sg.ToolsVersionStatus2 = g.ToolsVersionStatus2
	sg.GuestId = g.GuestId
	sg.GuestFullName = g.GuestFullName
	sg.HostName = g.HostName
	sg.IpAddress = g.IpAddress
	Map.Update(vm, []types.PropertyChange{
		{Name: "guest", Val: g},
		{Name: "summary.guest", Val: &sg},
		{Name: "guestHeartbeatStatus", Val: map[bool]types.ManagedEntityStatus{true: types.ManagedEntityStatusGreen, false: types.ManagedEntityStatusGray}[g.ToolsRunningStatus == string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)]},
	})
}

type v2oPowerWatcher struct{}

func (v2oPowerWatcher) Reference() types.ManagedObjectReference {
	return types.ManagedObjectReference{Type: "V2oPowerWatcher", Value: "v2o-power-watcher"}
}
func (v2oPowerWatcher) PutObject(mo.Reference)                    {}
func (v2oPowerWatcher) RemoveObject(types.ManagedObjectReference) {}
func (v2oPowerWatcher) UpdateObject(obj mo.Reference, changes []types.PropertyChange) {
	ref := obj.Reference()
	if ref.Type != "VirtualMachine" {
		return
	}
	for _, c := range changes {
		if c.Name != "runtime.powerState" {
			continue
		}
		vm, ok := Map.Get(ref).(*VirtualMachine)
		if !ok {
			return
		}
		v2oGuestsMu.Lock()
		seed, ok := v2oSeeds[ref.Value]
		v2oGuestsMu.Unlock()
		if !ok {
			return
		}
		switch fmt.Sprint(c.Val) {
		case string(types.VirtualMachinePowerStatePoweredOn):
			v2oCbtStunPowerOn(vm) // power-on is a stun: CBT settings take effect (zz_v2o_cbt.go)
			V2oSetTools(vm, seed.Tools)
		default:
			if fmt.Sprint(c.Val) == string(types.VirtualMachinePowerStatePoweredOff) {
				v2oFlushLogged(vm) // the guest's state is on its disk once it is off
			}
			if seed.Tools == "notInstalled" {
				V2oSetTools(vm, "notInstalled")
			} else {
				V2oSetTools(vm, "notRunning")
			}
		}
	}
}

// --- hooks ------------------------------------------------------------------------------

func v2oFindVM(name string) *VirtualMachine {
	if obj, ok := Map.Get(types.ManagedObjectReference{Type: "VirtualMachine", Value: name}).(*VirtualMachine); ok {
		return obj
	}
	for _, e := range Map.All("VirtualMachine") {
		if v, ok := e.(*VirtualMachine); ok && v.Name == name {
			return v
		}
	}
	return nil
}

func v2oJSON(w http.ResponseWriter, status int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func v2oFail(w http.ResponseWriter, status int, msg string) {
	v2oJSON(w, status, map[string]string{"error": msg})
}

// v2oHookVM decodes a JSON body into req (which must have a "vm" field read by vmOf) for POST.
func v2oDecode(w http.ResponseWriter, r *http.Request, req interface{}) bool {
	if r.Method != http.MethodPost {
		v2oFail(w, http.StatusMethodNotAllowed, "POST a JSON body")
		return false
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		v2oFail(w, http.StatusBadRequest, "bad JSON: "+err.Error())
		return false
	}
	return true
}

func v2oHookVMs(w http.ResponseWriter, r *http.Request) {
	type entry struct {
		Name       string       `json:"name"`
		Moref      string       `json:"moref"`
		PowerState string       `json:"powerState"`
		Tools      string       `json:"toolsRunningStatus"`
		Seed       V2oGuestSeed `json:"seed"`
	}
	var out []entry
	v2oGuestsMu.Lock()
	seeds := map[string]V2oGuestSeed{}
	for k, v := range v2oSeeds {
		seeds[k] = v
	}
	v2oGuestsMu.Unlock()
	for ref, seed := range seeds {
		vm, ok := Map.Get(types.ManagedObjectReference{Type: "VirtualMachine", Value: ref}).(*VirtualMachine)
		if !ok {
			continue
		}
		seed.Password = ""
		out = append(out, entry{vm.Name, ref, string(vm.Runtime.PowerState), vm.Guest.ToolsRunningStatus, seed})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	v2oJSON(w, http.StatusOK, out)
}

// v2oHookTools sets VMware Tools status / guest identity (grown from the recipe's guestHook).
func v2oHookTools(w http.ResponseWriter, r *http.Request) {
	var req struct {
		VM                  string `json:"vm"`
		Tools               string `json:"tools"` // running | notRunning | notInstalled (sets all tools fields)
		ToolsStatus         string `json:"toolsStatus"`
		ToolsRunningStatus  string `json:"toolsRunningStatus"`
		ToolsVersionStatus  string `json:"toolsVersionStatus"`
		ToolsVersionStatus2 string `json:"toolsVersionStatus2"`
		ToolsVersion        string `json:"toolsVersion"`
		GuestID             string `json:"guestId"`
		GuestFamily         string `json:"guestFamily"`
		GuestFullName       string `json:"guestFullName"`
		HostName            string `json:"hostName"`
		IPAddress           string `json:"ipAddress"`
		GuestState          string `json:"guestState"`
		ConfigGuestFullName string `json:"configGuestFullName"`
		// Persist: also make this the VM's tools state after power operations and resets.
		Persist bool `json:"persist"`
	}
	if !v2oDecode(w, r, &req) {
		return
	}
	vm := v2oFindVM(req.VM)
	if vm == nil {
		v2oFail(w, http.StatusNotFound, "vm not found: "+req.VM)
		return
	}
	if req.Tools != "" {
		if req.Tools != "running" && req.Tools != "notRunning" && req.Tools != "notInstalled" {
			v2oFail(w, http.StatusBadRequest, "tools must be running, notRunning or notInstalled")
			return
		}
		V2oSetTools(vm, req.Tools)
		if req.Persist {
			v2oGuestsMu.Lock()
			if s, ok := v2oSeeds[vm.Self.Value]; ok {
				s.Tools = req.Tools
				v2oSeeds[vm.Self.Value] = s
			}
			v2oGuestsMu.Unlock()
		}
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	g := *vm.Guest
	if req.ToolsStatus != "" {
		g.ToolsStatus = types.VirtualMachineToolsStatus(req.ToolsStatus)
	}
	set(&g.ToolsRunningStatus, req.ToolsRunningStatus)
	set(&g.ToolsVersionStatus, req.ToolsVersionStatus)
	set(&g.ToolsVersionStatus2, req.ToolsVersionStatus2)
	set(&g.ToolsVersion, req.ToolsVersion)
	set(&g.GuestId, req.GuestID)
	set(&g.GuestFamily, req.GuestFamily)
	set(&g.GuestFullName, req.GuestFullName)
	set(&g.HostName, req.HostName)
	set(&g.IpAddress, req.IPAddress)
	set(&g.GuestState, req.GuestState)
	v2oUpdateGuest(vm, &g)
	if req.ConfigGuestFullName != "" {
		Map.Update(vm, []types.PropertyChange{
			{Name: "config.guestFullName", Val: req.ConfigGuestFullName},
			{Name: "summary.config.guestFullName", Val: req.ConfigGuestFullName},
		})
	}
	v2oJSON(w, http.StatusOK, map[string]interface{}{"vm": vm.Self.Value, "guest": vm.Guest})
}

type v2oGuestView struct {
	VM              string                      `json:"vm"`
	Name            string                      `json:"name"`
	Seed            V2oGuestSeed                `json:"seed"`
	Drivers         []V2oDriver                 `json:"drivers"`
	Registry        map[string]interface{}      `json:"registry"`
	Pinned          map[string]interface{}      `json:"pinned"`
	FailDrivers     map[string]V2oDriverFailure `json:"failDrivers"`
	StrictOSFolder  bool                        `json:"strictOsFolder"`
	ProcessDuration int64                       `json:"processDurationMs"`
	ShutdownDelay   int64                       `json:"shutdownDelayMs"`
	IgnoreShutdown  bool                        `json:"ignoreShutdown"`
	Files           map[string]int              `json:"files"`
	Rules           []*V2oRule                  `json:"rules"`
	CDDrives        map[string]string           `json:"cdDrives"`
	History         []V2oHistoryEntry           `json:"history"`
	Tasks           []V2oTask                   `json:"tasks"`
	BrokenDrivers   []string                    `json:"brokenDrivers"`
	V2oGuestModel                               // network, disks, bitlocker, languageMode, domainRole … inline
}

func v2oView(vm *VirtualMachine, g *V2oGuest) v2oGuestView {
	v := v2oGuestView{
		VM: vm.Self.Value, Name: vm.Name, Seed: g.Seed, Drivers: g.Drivers,
		Registry: map[string]interface{}{}, Pinned: map[string]interface{}{}, FailDrivers: g.FailDrivers,
		StrictOSFolder: g.StrictOSFolder, ProcessDuration: g.ProcessDuration.Milliseconds(),
		ShutdownDelay: g.ShutdownDelay.Milliseconds(), IgnoreShutdown: g.IgnoreShutdown,
		Files: map[string]int{}, Rules: g.Rules, History: g.History,
		Tasks: append([]V2oTask{}, g.Tasks...), BrokenDrivers: append([]string{}, g.BrokenDrivers...),
		V2oGuestModel: g.Model.clone(),
	}
	v.Seed.Password = ""
	for k, vals := range g.reg {
		for n, val := range vals {
			v.Registry[g.regNames[k]+`\`+g.regNames[k+"|"+n]] = val.Data
		}
	}
	for k, val := range g.Pinned {
		v.Pinned[k] = val.Data
	}
	for k, c := range g.files {
		if c != nil {
			v.Files[g.names[k]] = len(c)
		}
	}
	_, v.CDDrives = v2oCDDrives(vm)
	if v.Drivers == nil {
		v.Drivers = []V2oDriver{}
	}
	if v.Rules == nil {
		v.Rules = []*V2oRule{}
	}
	return v
}

// splitValuePath splits "HKLM\...\Key\ValueName" into key and value name.
func v2oSplitValuePath(p string) (string, string) {
	p = strings.ReplaceAll(p, "/", `\`)
	i := strings.LastIndex(p, `\`)
	if i < 0 {
		return p, ""
	}
	return p[:i], p[i+1:]
}

func v2oJSONValue(v interface{}) (v2oRegValue, error) {
	switch d := v.(type) {
	case float64:
		return v2oRegValue{"REG_DWORD", uint32(d)}, nil
	case string:
		return v2oRegValue{"REG_SZ", d}, nil
	case map[string]interface{}:
		t, _ := d["type"].(string)
		if t == "REG_DWORD" {
			n, _ := d["data"].(float64)
			return v2oRegValue{t, uint32(n)}, nil
		}
		if list, ok := d["data"].([]interface{}); ok && t == "REG_MULTI_SZ" {
			var ss []string
			for _, e := range list {
				ss = append(ss, fmt.Sprint(e))
			}
			return v2oRegValue{t, ss}, nil
		}
		return v2oRegValue{t, fmt.Sprint(d["data"])}, nil
	}
	return v2oRegValue{}, fmt.Errorf("registry value must be a number (REG_DWORD), a string (REG_SZ) or {type, data}")
}

func v2oHookGuestState(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		vm := v2oFindVM(r.URL.Query().Get("vm"))
		if vm == nil {
			v2oFail(w, http.StatusNotFound, "vm not found: "+r.URL.Query().Get("vm"))
			return
		}
		g := v2oGuestOf(vm.Self.Value)
		if g == nil {
			v2oFail(w, http.StatusNotFound, "vm has no simulated guest: "+vm.Name)
			return
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		v2oJSON(w, http.StatusOK, v2oView(vm, g))
		return
	}
	var req struct {
		VM                string                      `json:"vm"`
		AddDrivers        []string                    `json:"addDrivers"`    // stems: viostor vioscsi netkvm balloon
		RemoveDrivers     []string                    `json:"removeDrivers"` // original names or stems
		Registry          map[string]interface{}      `json:"registry"`      // "HKLM\\...\\Key\\Value": 0 | "text" | {type,data} | null (delete)
		Pin               map[string]interface{}      `json:"pin"`           // like registry, and later writes are ignored
		Unpin             []string                    `json:"unpin"`
		FailDrivers       map[string]V2oDriverFailure `json:"failDrivers"` // stem -> failure; exitCode 0 removes
		StrictOSFolder    *bool                       `json:"strictOsFolder"`
		ISOMissing        []string                    `json:"isoMissing"` // ISO-relative paths the ISO lacks
		ProcessDurationMs *int64                      `json:"processDurationMs"`
		ShutdownDelayMs   *int64                      `json:"shutdownDelayMs"`
		IgnoreShutdown    *bool                       `json:"ignoreShutdown"`
		Files             map[string]*string          `json:"files"` // guest path -> content (null deletes)
		Password          string                      `json:"password"`
		ClearHistory      bool                        `json:"clearHistory"`
		BrokenDrivers     *[]string                   `json:"brokenDrivers"` // drivers the lab's Nova treats as failing at boot
		// Issue 13's guest model (zz_v2o_guest_model.go): each replaces that part, filled in
		// (GUIDs, instance ids, ifIndex …) as at seeding.
		Network      *V2oNetwork     `json:"network"`
		Disks        *[]V2oDisk      `json:"disks"`
		Bitlocker    *[]V2oBitlocker `json:"bitlocker"` // [] = the BitLocker feature not installed
		LanguageMode *string         `json:"languageMode"`
		DomainRole   *int            `json:"domainRole"`
		PartOfDomain *bool           `json:"partOfDomain"`
		Domain       *string         `json:"domain"`
		GuestAgent   *bool           `json:"guestAgent"`
	}
	if !v2oDecode(w, r, &req) {
		return
	}
	vm := v2oFindVM(req.VM)
	if vm == nil {
		v2oFail(w, http.StatusNotFound, "vm not found: "+req.VM)
		return
	}
	g := v2oGuestOf(vm.Self.Value)
	if g == nil {
		v2oFail(w, http.StatusNotFound, "vm has no simulated guest: "+vm.Name)
		return
	}
	defer v2oFlushIfOff(vm) // after the unlock below: an off VM's disk holds the new state
	g.mu.Lock()
	defer g.mu.Unlock()
	x := &v2oExec{g: g, vm: vm}
	for _, stem := range req.AddDrivers {
		stem = strings.ToLower(strings.TrimSuffix(stem, ".inf"))
		var o v2oOut
		x.isos = map[string]string{"Z:": "virtio-win.iso"}
		folder := map[string]string{"netkvm": "NetKVM", "balloon": "Balloon", "vioser": "vioserial"}[stem]
		if folder == "" {
			folder = stem
		}
		saved := g.StrictOSFolder
		g.StrictOSFolder = false
		// -a: staging only, the syntax every pnputil knows (Windows 8 and later).
		x.pnputil([]string{"-a", `Z:\` + folder + `\` + g.Seed.OS + `\amd64\` + stem + ".inf"}, &o)
		g.StrictOSFolder = saved
	}
	for _, d := range req.RemoveDrivers {
		d = strings.ToLower(strings.TrimSuffix(d, ".inf")) + ".inf"
		kept := g.Drivers[:0]
		for _, drv := range g.Drivers {
			if !strings.EqualFold(drv.OriginalName, d) && !strings.EqualFold(drv.PublishedName, d) {
				kept = append(kept, drv)
				continue
			}
			g.unstage(drv)
		}
		g.Drivers = kept
	}
	for p, val := range req.Registry {
		key, name := v2oSplitValuePath(p)
		if val == nil {
			if vals, ok := g.reg[strings.ToLower(v2oNormKey(key))]; ok {
				delete(vals, strings.ToLower(name))
			}
			continue
		}
		rv, err := v2oJSONValue(val)
		if err != nil {
			v2oFail(w, http.StatusBadRequest, p+": "+err.Error())
			return
		}
		g.regSet(key, name, rv)
	}
	for _, p := range req.Unpin {
		key, name := v2oSplitValuePath(p)
		delete(g.Pinned, strings.ToLower(v2oNormKey(key))+`\`+strings.ToLower(name))
	}
	for p, val := range req.Pin {
		key, name := v2oSplitValuePath(p)
		rv, err := v2oJSONValue(val)
		if err != nil {
			v2oFail(w, http.StatusBadRequest, p+": "+err.Error())
			return
		}
		pk := strings.ToLower(v2oNormKey(key)) + `\` + strings.ToLower(name)
		delete(g.Pinned, pk)
		g.regSet(key, name, rv)
		g.Pinned[pk] = rv
	}
	for stem, f := range req.FailDrivers {
		stem = strings.ToLower(stem)
		if f.ExitCode == 0 {
			delete(g.FailDrivers, stem)
		} else {
			g.FailDrivers[stem] = f
		}
	}
	if req.ISOMissing != nil {
		g.ISOMissing = req.ISOMissing
	}
	if req.StrictOSFolder != nil {
		g.StrictOSFolder = *req.StrictOSFolder
	}
	if req.ProcessDurationMs != nil {
		g.ProcessDuration = time.Duration(*req.ProcessDurationMs) * time.Millisecond
	}
	if req.ShutdownDelayMs != nil {
		g.ShutdownDelay = time.Duration(*req.ShutdownDelayMs) * time.Millisecond
	}
	if req.IgnoreShutdown != nil {
		g.IgnoreShutdown = *req.IgnoreShutdown
	}
	for p, c := range req.Files {
		if c == nil {
			n := v2oNormPath(p)
			delete(g.files, n)
			delete(g.names, n)
			continue
		}
		g.writeFile(p, []byte(*c))
	}
	if req.Password != "" {
		g.Seed.Password = req.Password
	}
	if req.ClearHistory {
		g.History = nil
	}
	if req.BrokenDrivers != nil {
		g.BrokenDrivers = append([]string{}, *req.BrokenDrivers...)
	}
	if req.Network != nil {
		g.Model.Network = *req.Network
	}
	if req.Disks != nil {
		g.Model.Disks = *req.Disks
	}
	if req.Bitlocker != nil {
		g.Model.Bitlocker = *req.Bitlocker
	}
	if req.LanguageMode != nil {
		switch *req.LanguageMode {
		case "FullLanguage", "ConstrainedLanguage", "RestrictedLanguage", "NoLanguage":
			g.Model.LanguageMode = *req.LanguageMode
		default:
			v2oFail(w, http.StatusBadRequest, "languageMode must be FullLanguage, ConstrainedLanguage, RestrictedLanguage or NoLanguage")
			return
		}
	}
	if req.DomainRole != nil {
		if *req.DomainRole < 0 || *req.DomainRole > 5 {
			v2oFail(w, http.StatusBadRequest, "domainRole is Win32_ComputerSystem's 0..5")
			return
		}
		g.Model.DomainRole = *req.DomainRole
	}
	if req.PartOfDomain != nil {
		g.Model.PartOfDomain = *req.PartOfDomain
	}
	if req.Domain != nil {
		g.Model.Domain = *req.Domain
	}
	if req.GuestAgent != nil {
		g.Model.GuestAgent = *req.GuestAgent
	}
	v2oFillModel(&g.Model, vm, g.Seed)
	v2oJSON(w, http.StatusOK, v2oView(vm, g))
}

func v2oHookRules(w http.ResponseWriter, r *http.Request) {
	var req struct {
		VM      string     `json:"vm"`
		Rules   []*V2oRule `json:"rules"`
		Replace bool       `json:"replace"` // replace all rules (default: add in front)
	}
	if !v2oDecode(w, r, &req) {
		return
	}
	vm := v2oFindVM(req.VM)
	if vm == nil {
		v2oFail(w, http.StatusNotFound, "vm not found: "+req.VM)
		return
	}
	g := v2oGuestOf(vm.Self.Value)
	if g == nil {
		v2oFail(w, http.StatusNotFound, "vm has no simulated guest: "+vm.Name)
		return
	}
	for _, rule := range req.Rules {
		if _, err := compileRule(rule.Match); err != nil {
			v2oFail(w, http.StatusBadRequest, "bad match regexp "+rule.Match+": "+err.Error())
			return
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if req.Replace {
		g.Rules = req.Rules
	} else {
		g.Rules = append(append([]*V2oRule{}, req.Rules...), g.Rules...)
	}
	v2oJSON(w, http.StatusOK, v2oView(vm, g))
}

// v2oHookReset restores VMs to their seeded power state, tools state, CD-ROMs and guest model.
func v2oHookReset(w http.ResponseWriter, r *http.Request) {
	var req struct {
		VM string `json:"vm"` // empty: every seeded VM
	}
	if !v2oDecode(w, r, &req) {
		return
	}
	var refs []string
	v2oGuestsMu.Lock()
	for ref := range v2oSeeds {
		refs = append(refs, ref)
	}
	v2oGuestsMu.Unlock()
	if req.VM != "" {
		vm := v2oFindVM(req.VM)
		if vm == nil {
			v2oFail(w, http.StatusNotFound, "vm not found: "+req.VM)
			return
		}
		refs = []string{vm.Self.Value}
	}
	var done []string
	for _, ref := range refs {
		vm, ok := Map.Get(types.ManagedObjectReference{Type: "VirtualMachine", Value: ref}).(*VirtualMachine)
		if !ok {
			continue
		}
		g := v2oResetGuest(ref)
		if g == nil {
			continue
		}
		state := types.VirtualMachinePowerState(g.Seed.PowerState)
		if state == "" {
			state = types.VirtualMachinePowerStatePoweredOn
		}
		defer v2oFlushLogged(vm) // a fresh guest, a fresh disk
		Map.WithLock(vm, func() {
			v2oRestoreCDs(vm)
			vm.Runtime.PowerState = state
			vm.Summary.Runtime.PowerState = state
			Map.Update(vm, []types.PropertyChange{
				{Name: "runtime.powerState", Val: state},
				{Name: "summary.runtime.powerState", Val: state},
			})
		})
		done = append(done, vm.Name)
	}
	sort.Strings(done)
	v2oJSON(w, http.StatusOK, map[string]interface{}{"reset": done})
}
