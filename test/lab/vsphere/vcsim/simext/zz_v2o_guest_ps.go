// v2o lab add-on compiled INTO package simulator (test-only): the PowerShell cmdlets a guest
// capture runs (issue 13, contract §A) answered from the guest model (zz_v2o_guest_model.go) as
// Windows PowerShell does, with its ConvertTo-Json quirks, plus the pre-shutdown cmdlets (§C):
//
//	SOURCE [| Select-Object P1,P2,…] | ConvertTo-Json -Depth N [-Compress] | Out-File -Encoding utf8 -FilePath "$d\x.json"
//
// SOURCE: $PSVersionTable.PSVersion, $ExecutionContext.SessionState.LanguageMode, Get-CimInstance
// (Win32_ComputerSystem, Win32_ComputerSystemProduct, Win32_DiskPartition), Get-NetAdapter,
// Get-PnpDevice -Class Net, Get-NetIPInterface, Get-NetIPAddress, Get-NetRoute -PolicyStore,
// Get-DnsClientServerAddress, Get-DnsClient, Get-NetConnectionProfile, Get-NetLbfoTeam, Get-Disk,
// Get-Partition, Get-Volume, Get-StorageSetting, Get-BitLockerVolume, Get-ItemProperty, Test-Path.
package simulator

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// --- values and ConvertTo-Json --------------------------------------------------------------

type psProp struct {
	k string
	v interface{}
}

// psObj is an object with ordered properties (a PSCustomObject after Select-Object).
type psObj []psProp

func (o psObj) get(name string) (string, interface{}, bool) {
	for _, p := range o {
		if strings.EqualFold(p.k, name) {
			return p.k, p.v, true
		}
	}
	return name, nil, false
}

// psChar is a [char]: ConvertTo-Json writes it as a one-character string, "\u0000" for NUL
// (Get-Partition's DriveLetter of a partition without a letter).
type psChar rune

// psToString: what PowerShell's ToString gives for a value ConvertTo-Json cuts at -Depth
// (Windows PowerShell 5.1 truncates silently: PowerShell issue #8393 "Consider removing the
// default -Depth value from ConvertTo-Json"; 7.1 added a warning, PR #13692): a hashtable-like
// "@{k=v; …}" for a custom object, the elements space-joined for an array.
func psToString(v interface{}) string {
	switch t := v.(type) {
	case nil:
		return ""
	case psObj:
		var parts []string
		for _, p := range t {
			parts = append(parts, p.k+"="+psToString(p.v))
		}
		return "@{" + strings.Join(parts, "; ") + "}"
	case []interface{}:
		var parts []string
		for _, e := range t {
			parts = append(parts, psToString(e))
		}
		return strings.Join(parts, " ")
	case bool:
		return map[bool]string{true: "True", false: "False"}[t]
	case psChar:
		return string(rune(t))
	}
	return fmt.Sprint(v)
}

// psJSONString escapes as .NET's JavaScriptSerializer (Windows PowerShell 5.1's ConvertTo-Json)
// does: \" \\ \b \f \n \r \t, other control characters and < > & ' as \uXXXX; non-ASCII as is.
func psJSONString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '<', '>', '&', '\'':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func psScalarJSON(v interface{}) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case bool:
		return map[bool]string{true: "true", false: "false"}[t]
	case string:
		return psJSONString(t)
	case psChar:
		return psJSONString(string(rune(t)))
	case int:
		return strconv.Itoa(t)
	case int32:
		return strconv.FormatInt(int64(t), 10)
	case int64:
		return strconv.FormatInt(t, 10)
	case uint32:
		return strconv.FormatUint(uint64(t), 10)
	case uint64:
		return strconv.FormatUint(t, 10)
	}
	return psJSONString(fmt.Sprint(v))
}

// psCut applies -Depth: an object or array nested deeper than depth becomes its ToString().
func psCut(v interface{}, level, depth int) interface{} {
	switch t := v.(type) {
	case psObj:
		if level > depth {
			return psToString(t)
		}
		out := make(psObj, len(t))
		for i, p := range t {
			out[i] = psProp{p.k, psCut(p.v, level+1, depth)}
		}
		return out
	case []interface{}:
		if level > depth {
			return psToString(t)
		}
		out := make([]interface{}, len(t))
		for i, e := range t {
			out[i] = psCut(e, level+1, depth)
		}
		return out
	}
	return v
}

func psCompact(v interface{}) string {
	switch t := v.(type) {
	case psObj:
		var parts []string
		for _, p := range t {
			parts = append(parts, psJSONString(p.k)+":"+psCompact(p.v))
		}
		return "{" + strings.Join(parts, ",") + "}"
	case []interface{}:
		var parts []string
		for _, e := range t {
			parts = append(parts, psCompact(e))
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return psScalarJSON(v)
}

// psPretty reproduces Windows PowerShell 5.1's ConvertTo-Json layout (its own pretty printer over
// JavaScriptSerializer's output, replaced by Newtonsoft in PowerShell 6: PowerShell issue #2736
// "Use prettier formatting for ConvertTo-Json" shows 5.1's output): 4-space indents, two spaces after each colon, CRLF,
// a nested array or object indented to the column after its key, an empty array as "[", an
// empty line and "]".
func psPretty(v interface{}, pad string, extra int) string {
	newPad := pad + strings.Repeat(" ", extra) + "    "
	closePad := pad + strings.Repeat(" ", extra)
	switch t := v.(type) {
	case psObj:
		var parts []string
		for _, p := range t {
			k := psJSONString(p.k)
			parts = append(parts, newPad+k+":  "+psPretty(p.v, newPad, len(k)+3))
		}
		return "{" + crlf + strings.Join(parts, ","+crlf) + crlf + closePad + "}"
	case []interface{}:
		var parts []string
		for _, e := range t {
			parts = append(parts, newPad+psPretty(e, newPad, 0))
		}
		return "[" + crlf + strings.Join(parts, ","+crlf) + crlf + closePad + "]"
	}
	return psScalarJSON(v)
}

// psConvertToJSON: ConvertTo-Json over its pipeline input. No input: no output at all; one
// object: that object, not an array (Microsoft "ConvertTo-Json": -AsArray, which would change
// that, exists from PowerShell 6.2 only); several: an array. Enums are their integer values.
func psConvertToJSON(in []interface{}, depth int, compress bool) (string, bool) {
	if len(in) == 0 {
		return "", false
	}
	var v interface{} = in
	if len(in) == 1 {
		v = in[0]
		v = psCut(v, 0, depth)
	} else {
		v = psCut(v, 0, depth+1)
	}
	if compress {
		return psCompact(v), true
	}
	return psPretty(v, "", 0), true
}

// psSelect is Select-Object P1,P2: a new object with those properties in that order; a property
// the input lacks is $null (Microsoft "Select-Object").
func psSelect(in []interface{}, props []string) []interface{} {
	var out []interface{}
	for _, v := range in {
		o, ok := v.(psObj)
		if !ok {
			o = psObj{}
		}
		var n psObj
		for _, p := range props {
			k, val, _ := o.get(p)
			n = append(n, psProp{k, val})
		}
		out = append(out, n)
	}
	return out
}

// psFormatList: a rough Format-List for a source run without ConvertTo-Json (nothing parses it).
func psFormatList(in []interface{}) string {
	var b strings.Builder
	for _, v := range in {
		o, ok := v.(psObj)
		if !ok {
			b.WriteString(psToString(v) + crlf)
			continue
		}
		b.WriteString(crlf)
		for _, p := range o {
			fmt.Fprintf(&b, "%-22s : %s"+crlf, p.k, psToString(p.v))
		}
	}
	return b.String()
}

// --- errors as powershell.exe prints them ---------------------------------------------------

// psError formats a PowerShell error record as the console host writes it to stderr.
func (x *v2oExec) psError(stmt, cmd, msg, category, target, errID string) string {
	s := stmt
	if len(s) > 70 {
		s = s[:67] + " ..."
	}
	marker := strings.Repeat("~", len([]rune(cmd)))
	if len(marker) > 70 {
		marker = marker[:70]
	}
	at := "At line:%d char:1"
	if x.g.Seed.v2oGerman() {
		at = "In Zeile:%d Zeichen:1"
	}
	return fmt.Sprintf("%s : %s"+crlf+at+crlf+"+ %s"+crlf+"+ %s"+crlf+
		"    + CategoryInfo          : %s: (%s) [%s], %s"+crlf+"    + FullyQualifiedErrorId : %s"+crlf+" "+crlf,
		cmd, msg, x.psLine, s, marker, category, target, cmd, strings.SplitN(errID, ",", 2)[0], errID)
}

func (x *v2oExec) psNotRecognized(stmt, cmd string) string {
	if x.g.Seed.v2oGerman() {
		// A German Windows PowerShell words its errors in German (the error ids stay English).
		return fmt.Sprintf("%s : Die Benennung \"%s\" wurde nicht als Name eines Cmdlet, einer Funktion, einer Skriptdatei oder "+
			"eines ausführbaren Programms erkannt. Überprüfen Sie die Schreibweise des Namens, oder ob der Pfad korrekt ist "+
			"(sofern enthalten), und wiederholen Sie den Vorgang."+crlf+"In Zeile:%d Zeichen:1"+crlf+"+ %s"+crlf+"+ %s"+crlf+
			"    + CategoryInfo          : ObjectNotFound: (%s:String) [], CommandNotFoundException"+crlf+
			"    + FullyQualifiedErrorId : CommandNotFoundException"+crlf+" "+crlf,
			cmd, cmd, x.psLine, psShort(stmt), strings.Repeat("~", len(cmd)), cmd)
	}
	return fmt.Sprintf("%s : The term '%s' is not recognized as the name of a cmdlet, function, script file, or operable "+
		"program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."+crlf+
		"At line:%d char:1"+crlf+"+ %s"+crlf+"+ %s"+crlf+
		"    + CategoryInfo          : ObjectNotFound: (%s:String) [], CommandNotFoundException"+crlf+
		"    + FullyQualifiedErrorId : CommandNotFoundException"+crlf+" "+crlf,
		cmd, cmd, x.psLine, psShort(stmt), strings.Repeat("~", len(cmd)), cmd)
}

func psShort(s string) string {
	if len(s) > 70 {
		return s[:67] + " ..."
	}
	return s
}

// psCLIXML: powershell.exe started with -EncodedCommand and stderr redirected, not in a prompt
// loop (no -NoExit; ConsoleHost.IsInteractive is "running a prompt loop", -NonInteractive or not)
// writes its error stream as CLIXML ("#< CLIXML", one <S S="Error"> per line, progress records
// such as "Preparing modules for first use.") for a PowerShell caller to deserialize
// (PowerShell ConsoleHost.cs ErrorFormat: "If this shell is invoked in minishell interop mode and
// error is redirected, always write data in error stream in xml format"; Ansible's
// Cleanse-Stderr strips it for the same reason).
func psCLIXML(stderr string, progress bool) string {
	if stderr == "" && !progress {
		return ""
	}
	var b strings.Builder
	b.WriteString("#< CLIXML" + crlf + `<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">`)
	if progress {
		b.WriteString(`<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj>`)
	}
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "_x000D_", "\n", "_x000A_")
	for _, line := range strings.SplitAfter(stderr, "\n") {
		if line == "" {
			continue
		}
		b.WriteString(`<S S="Error">` + esc.Replace(line) + `</S>`)
	}
	b.WriteString("</Objs>")
	return b.String()
}

// --- the sources ----------------------------------------------------------------------------

var psModuleCmdlets = map[string]bool{
	"get-netadapter": true, "get-pnpdevice": true, "get-netipinterface": true, "get-netipaddress": true,
	"get-netroute": true, "get-dnsclientserveraddress": true, "get-dnsclient": true,
	"get-netconnectionprofile": true, "get-netlbfoteam": true, "get-disk": true, "get-partition": true,
	"get-volume": true, "get-storagesetting": true, "get-bitlockervolume": true, "get-ciminstance": true,
	"suspend-bitlocker": true, "resume-bitlocker": true,
}

// psAvailable: whether a cmdlet exists on this guest. Get-PnpDevice (PnpDevice module) and
// Get-StorageSetting came with Windows 10 / Server 2016 (Microsoft's PnpDevice and Storage module
// pages list no Windows 8.1 / 2012 R2); the BitLocker module exists on Windows Server only with the
// BitLocker feature installed (Microsoft "BitLocker: How to deploy on Windows Server"), on
// Windows 10/11 always.
func (x *v2oExec) psAvailable(name string) bool {
	switch name {
	case "get-pnpdevice", "get-storagesetting":
		return !x.g.Seed.v2oLegacyPnputil()
	case "get-bitlockervolume", "suspend-bitlocker", "resume-bitlocker", "enable-bitlocker", "disable-bitlocker":
		return len(x.g.Model.Bitlocker) > 0 || x.g.Seed.v2oClient()
	}
	return true
}

func (x *v2oExec) psVersion() psObj {
	major, minor, build, rev := 5, 1, 0, 1
	switch {
	case strings.EqualFold(x.g.Seed.OS, "2k12"):
		major, minor, build, rev = 3, 0, -1, -1 // Windows Management Framework 3.0 ships with Server 2012
	case strings.EqualFold(x.g.Seed.OS, "2k12R2"):
		major, minor, build, rev = 4, 0, -1, -1 // 4.0 ships with Server 2012 R2 (Microsoft "PowerShell versions")
	default:
		parts := strings.Split(x.g.Seed.WindowsVersion, ".")
		if len(parts) == 3 {
			build, _ = strconv.Atoi(parts[2])
		}
		// Windows 10 22H2 and 11 23H2 keep the PowerShell build of their servicing baseline.
		switch build {
		case 19045:
			build = 19041
		case 22631:
			build = 22621
		}
		rev = 2849
	}
	// System.Version has MajorRevision and MinorRevision too: ConvertTo-Json writes all six.
	mr, nr := 0, rev
	if rev < 0 {
		mr, nr = -1, -1
	}
	return psObj{{"Major", major}, {"Minor", minor}, {"Build", build}, {"Revision", rev}, {"MajorRevision", mr}, {"MinorRevision", nr}}
}

var psLanguageModes = map[string]int{"FullLanguage": 0, "RestrictedLanguage": 1, "NoLanguage": 2, "ConstrainedLanguage": 3}

func (x *v2oExec) presentAdapters() []V2oAdapter {
	var out []V2oAdapter
	for _, a := range x.g.Model.Network.Adapters {
		if a.Present {
			out = append(out, a)
		}
	}
	return out
}

const psLoopback = "Loopback Pseudo-Interface 1"

func psIsV6(a string) bool { return strings.Contains(a, ":") }

// psLinkLocal: the fe80:: address every IPv6-bound interface has, with its zone index, as
// Get-NetIPAddress's IPAddress shows it.
func psLinkLocal(a V2oAdapter) string {
	h := v2oHash("ll", a.MAC)
	return fmt.Sprintf("fe80::%x:%x:%x:%x%%%d", uint16(h[0])<<8|uint16(h[1]), uint16(h[2])<<8|uint16(h[3]), uint16(h[4])<<8|uint16(h[5]), uint16(h[6])<<8|uint16(h[7]), a.IfIndex)
}

func psAPIPA(a V2oAdapter) string {
	h := v2oHash("apipa", a.MAC)
	return fmt.Sprintf("169.254.%d.%d", 1+int(h[0])%254, 1+int(h[1])%254)
}

func psStrings(ss []string) []interface{} {
	out := []interface{}{}
	for _, s := range ss {
		out = append(out, s)
	}
	return out
}

func (x *v2oExec) regObject(key string) (psObj, bool) {
	lk := strings.ToLower(v2oNormKey(key))
	vals, ok := x.g.reg[lk]
	if !ok {
		return nil, false
	}
	var names []string
	for n := range vals {
		names = append(names, n)
	}
	sort.Strings(names)
	var o psObj
	for _, n := range names {
		v := vals[n]
		var val interface{} = v.Data
		switch v.Type {
		case "REG_DWORD":
			// The registry provider returns a DWORD as [int]: 0xFFFFFFFF reads -1.
			var u uint64
			switch d := v.Data.(type) {
			case uint32:
				u = uint64(d)
			case float64:
				u = uint64(d)
			case int:
				u = uint64(d)
			}
			val = int(int32(uint32(u)))
		case "REG_MULTI_SZ":
			if ss, ok := v.Data.([]string); ok {
				val = psStrings(ss)
			}
		}
		o = append(o, psProp{x.g.regNames[lk+"|"+n], val})
	}
	ps := "Microsoft.PowerShell.Core\\Registry::" + x.g.regNames[lk]
	o = append(o, psProp{"PSPath", ps}, psProp{"PSChildName", ps[strings.LastIndex(ps, `\`)+1:]}, psProp{"PSProvider", "Microsoft.PowerShell.Core\\Registry"})
	return o, true
}

func (x *v2oExec) sanPolicy() int {
	if v, _, ok := x.g.regGet(`HKLM\SYSTEM\CurrentControlSet\Services\partmgr\Parameters`, "SanPolicy"); ok {
		if n, ok := v.Data.(uint32); ok {
			return int(n)
		}
	}
	// Unset: Windows Server defaults to OfflineShared, client Windows to OnlineAll (Microsoft
	// "Set-StorageSetting" / diskpart "san": "the default SAN policy … is Offline Shared").
	if x.g.Seed.v2oClient() {
		return 1
	}
	return 2
}

type psPart struct {
	disk, number int
	letter       string
	paths        []interface{}
	size         int64
	msr          bool
	vol          *V2oVolume
	gptType      string
}

// partitions: each disk's partitions in order. GPT disks get the MSR partition Windows creates on
// them (after the EFI system partition on a system disk, first on a data disk); an offline disk's
// volumes are not mounted, so no letter and no access paths (Microsoft "Get-Partition").
func (x *v2oExec) partitions() []psPart {
	var out []psPart
	for _, d := range x.g.Model.Disks {
		n := 0
		add := func(p psPart) {
			n++
			p.disk, p.number = d.Number, n
			out = append(out, p)
		}
		msr := func() { add(psPart{msr: true, size: v2oMSRSize(d.SizeBytes), gptType: "GPT: Unknown"}) }
		if d.PartitionStyle == "GPT" && !d.System {
			msr()
		}
		for i := range d.Volumes {
			v := &d.Volumes[i]
			p := psPart{size: v.SizeBytes, vol: v, gptType: "GPT: Basic Data"}
			if d.Online {
				if v.DriveLetter != "" {
					p.letter = v.DriveLetter
					p.paths = append(p.paths, v.DriveLetter+`:\`)
				}
				p.paths = append(p.paths, v.GUID)
			}
			if v.FileSystem == "FAT32" && d.System {
				p.gptType = "GPT: System"
			}
			add(p)
			if i == 0 && d.PartitionStyle == "GPT" && d.System {
				msr()
			}
		}
	}
	return out
}

// psSource runs a pipeline's first command: the objects it outputs, error text (non-terminating),
// and whether the command exists at all.
func (x *v2oExec) psSource(src string) (objs []interface{}, stderr string, found bool) {
	a := v2oPSArgs(src)
	if len(a) == 0 {
		return nil, "", true
	}
	name := strings.ToLower(a[0])
	args := a[1:]
	param := func(names ...string) string {
		for i := 0; i < len(args); i++ {
			for _, n := range names {
				if strings.EqualFold(args[i], n) && i+1 < len(args) {
					return args[i+1]
				}
			}
		}
		for _, s := range args { // positional
			if !strings.HasPrefix(s, "-") {
				return s
			}
		}
		return ""
	}
	switch strings.ToLower(src) {
	case "$psversiontable.psversion":
		return []interface{}{x.psVersion()}, "", true
	case "$executioncontext.sessionstate.languagemode":
		return []interface{}{psLanguageModes[x.g.Model.LanguageMode]}, "", true
	}
	if !x.psAvailable(name) {
		return nil, "", false
	}
	if psModuleCmdlets[name] {
		x.psModules = true
	}
	m := &x.g.Model
	switch name {
	case "get-ciminstance", "get-wmiobject":
		switch strings.ToLower(param("-ClassName", "-Class")) {
		case "win32_computersystem":
			dom := "WORKGROUP"
			if m.PartOfDomain {
				dom = m.Domain
			}
			// Model "VMware7,1": the SMBIOS product name of virtual hardware 13 and later.
			return []interface{}{psObj{{"Name", strings.ToUpper(x.g.Seed.HostName)}, {"PrimaryOwnerName", "Windows User"},
				{"Domain", dom}, {"TotalPhysicalMemory", int64(4096) << 20}, {"Model", "VMware7,1"}, {"Manufacturer", m.Manufacturer},
				{"DomainRole", m.DomainRole}, {"PartOfDomain", m.PartOfDomain}}}, "", true
		case "win32_computersystemproduct":
			return []interface{}{psObj{{"IdentifyingNumber", "VMware-" + strings.ToLower(m.SMBIOSUUID)}, {"Name", "VMware7,1"},
				{"Vendor", m.Manufacturer}, {"Version", "None"}, {"Caption", "Computer System Product"}, {"UUID", m.SMBIOSUUID}}}, "", true
		case "win32_diskpartition":
			// Type: "Installable File System" (MBR NTFS), "GPT: Basic Data", "GPT: System",
			// "Logical Disk Manager" / "GPT: Logical Disk Manager Data" on a dynamic disk
			// (Microsoft "Win32_DiskPartition class"); BootPartition is the active partition.
			var out []interface{}
			idx := map[int]int{}
			for _, p := range x.partitions() {
				if p.msr {
					continue
				}
				var d V2oDisk
				for _, dd := range m.Disks {
					if dd.Number == p.disk {
						d = dd
					}
				}
				typ := p.gptType
				if d.PartitionStyle == "MBR" {
					typ = "Installable File System"
				}
				if d.Dynamic {
					typ = map[bool]string{true: "GPT: Logical Disk Manager Data", false: "Logical Disk Manager"}[d.PartitionStyle == "GPT"]
				}
				boot := d.System && idx[p.disk] == 0
				out = append(out, psObj{{"Name", fmt.Sprintf("Disk #%d, Partition #%d", p.disk, idx[p.disk])}, {"Index", idx[p.disk]},
					{"DiskIndex", p.disk}, {"Type", typ}, {"BootPartition", boot}, {"PrimaryPartition", true}, {"Size", p.size}})
				idx[p.disk]++
			}
			return out, "", true
		}
		return nil, "", true
	case "get-netadapter":
		var out []interface{}
		for _, a := range x.presentAdapters() {
			speed := map[bool]string{true: "1 Gbps", false: "10 Gbps"}[a.Driver != "vmxnet3"]
			out = append(out, psObj{{"Name", a.Name}, {"InterfaceDescription", a.Description}, {"ifIndex", a.IfIndex},
				{"Status", a.Status}, // MacAddress: upper case, dash separated (MSFT_NetAdapter PermanentAddress formatting)
				{"MacAddress", strings.ToUpper(strings.ReplaceAll(a.MAC, ":", "-"))}, {"LinkSpeed", speed},
				{"InterfaceGuid", a.GUID}, {"MtuSize", a.MTU}, {"VlanID", a.VlanID}, {"DriverProvider", map[bool]string{true: "VMware, Inc.", false: "Intel"}[a.Driver == "vmxnet3"]}})
		}
		return out, "", true
	case "get-pnpdevice":
		// Every Net-class device Windows knows, present or not: the adapters, the ghosts
		// (Present False, Status Unknown: Microsoft "Get-PnpDevice"), and the software adapters
		// every install has (WAN Miniports, the kernel debug adapter). FriendlyName is the device
		// name (the description, "#2" for a second of one kind), not the connection name.
		if !strings.EqualFold(param("-Class"), "Net") && param("-Class") != "" {
			return nil, "", true
		}
		var out []interface{}
		for _, a := range x.g.Model.Network.Adapters {
			fn := a.Description
			st := map[bool]string{true: "OK", false: "Unknown"}[a.Present]
			out = append(out, psObj{{"Status", st}, {"Class", "Net"}, {"FriendlyName", fn}, {"InstanceId", a.InstanceID}, {"Present", a.Present}})
		}
		for _, sw := range [][2]string{{"WAN Miniport (IP)", `SWD\MSRRAS\MS_NDISWANIP`}, {"WAN Miniport (IPv6)", `SWD\MSRRAS\MS_NDISWANIPV6`},
			{"WAN Miniport (Network Monitor)", `SWD\MSRRAS\MS_NDISWANBH`}, {"Microsoft Kernel Debug Network Adapter", `ROOT\KDNIC\0000`}} {
			out = append(out, psObj{{"Status", "OK"}, {"Class", "Net"}, {"FriendlyName", sw[0]}, {"InstanceId", sw[1]}, {"Present", true}})
		}
		return out, "", true
	case "get-netipinterface":
		// One row per interface and family, the loopback included; IPv6 rows keep Dhcp Enabled
		// (DHCPv6) even where IPv4 is static. AddressFamily 2 IPv4, 23 IPv6; Dhcp 0/1.
		var out []interface{}
		row := func(idx int, alias string, fam int, dhcp bool, mtu int64, metric int) {
			out = append(out, psObj{{"ifIndex", idx}, {"InterfaceIndex", idx}, {"InterfaceAlias", alias}, {"AddressFamily", fam},
				{"NlMtu", mtu}, {"InterfaceMetric", metric}, {"Dhcp", map[bool]int{true: 1, false: 0}[dhcp]}, {"ConnectionState", 1}})
		}
		for _, a := range x.presentAdapters() {
			metric := map[bool]int{true: 25, false: 15}[a.Driver != "vmxnet3"]
			row(a.IfIndex, a.Name, 23, true, int64(a.MTU), metric)
			row(a.IfIndex, a.Name, 2, a.DHCP, int64(a.MTU), metric)
		}
		row(1, psLoopback, 23, false, 4294967295, 75)
		row(1, psLoopback, 2, false, 4294967295, 75)
		return out, "", true
	case "get-netipaddress":
		// PrefixOrigin 0 Other 1 Manual 2 WellKnown 3 Dhcp 4 RouterAdvertisement; SuffixOrigin
		// 0 Other 1 Manual 2 WellKnown 3 OriginDhcp 4 Link 5 Random (MSFT_NetIPAddress). Link-local
		// fe80:: and the loopback addresses are listed too.
		var out []interface{}
		addr := func(a V2oAdapter, ip string, fam, plen, po, so int) {
			out = append(out, psObj{{"IPAddress", ip}, {"InterfaceIndex", a.IfIndex}, {"InterfaceAlias", a.Name}, {"AddressFamily", fam},
				{"Type", 1}, {"PrefixLength", plen}, {"PrefixOrigin", po}, {"SuffixOrigin", so}, {"AddressState", 4}})
		}
		lo := V2oAdapter{Name: psLoopback, IfIndex: 1}
		for _, a := range x.presentAdapters() {
			for _, ip := range a.IPv6 {
				addr(a, ip.Address, 23, ip.PrefixLength, 1, 1)
			}
			addr(a, psLinkLocal(a), 23, 64, 2, 4)
		}
		addr(lo, "::1", 23, 128, 2, 2)
		for _, a := range x.presentAdapters() {
			switch {
			case !a.DHCP:
				for _, ip := range a.IPv4 {
					addr(a, ip.Address, 2, ip.PrefixLength, 1, 1)
				}
			case len(a.IPv4) > 0:
				for _, ip := range a.IPv4 {
					addr(a, ip.Address, 2, ip.PrefixLength, 3, 3)
				}
			default: // no DHCP answer: an APIPA address (Microsoft "Automatic Private IP Addressing")
				addr(a, psAPIPA(a), 2, 16, 2, 4)
			}
		}
		addr(lo, "127.0.0.1", 2, 8, 2, 2)
		return out, "", true
	case "get-netroute":
		// PersistentStore: what route -p / New-NetRoute / a static gateway stored; DHCP gateways
		// live in ActiveStore only (Microsoft "Get-NetRoute" -PolicyStore).
		persistent := strings.EqualFold(param("-PolicyStore"), "PersistentStore")
		var out []interface{}
		route := func(a V2oAdapter, dest, hop string, metric int) {
			fam := map[bool]int{true: 23, false: 2}[psIsV6(dest)]
			out = append(out, psObj{{"ifIndex", a.IfIndex}, {"InterfaceIndex", a.IfIndex}, {"InterfaceAlias", a.Name}, {"AddressFamily", fam},
				{"DestinationPrefix", dest}, {"NextHop", hop}, {"RouteMetric", metric}, {"Protocol", 3}, {"Store", map[bool]int{true: 1, false: 0}[persistent]}})
		}
		for _, a := range x.presentAdapters() {
			if !a.DHCP || !persistent {
				for _, gw := range a.Gateways {
					route(a, map[bool]string{true: "::/0", false: "0.0.0.0/0"}[psIsV6(gw.NextHop)], gw.NextHop, gw.Metric)
				}
			}
			for _, r := range a.Routes {
				route(a, r.Destination, r.NextHop, r.Metric)
			}
		}
		return out, "", true
	case "get-dnsclientserveraddress":
		// Per interface and family; an IPv6 interface without configured servers reports the
		// well-known site-local fec0:0:0:ffff::1..3 (Microsoft "IPv6 DNS" default list).
		var out []interface{}
		fec0 := []string{"fec0:0:0:ffff::1", "fec0:0:0:ffff::2", "fec0:0:0:ffff::3"}
		row := func(idx int, alias string, fam int, servers []string) {
			out = append(out, psObj{{"InterfaceAlias", alias}, {"InterfaceIndex", idx}, {"AddressFamily", fam}, {"ServerAddresses", psStrings(servers)}})
		}
		for _, a := range x.presentAdapters() {
			var v4, v6 []string
			for _, s := range a.DNSServers {
				if psIsV6(s) {
					v6 = append(v6, s)
				} else {
					v4 = append(v4, s)
				}
			}
			if len(v6) == 0 {
				v6 = fec0
			}
			row(a.IfIndex, a.Name, 2, v4)
			row(a.IfIndex, a.Name, 23, v6)
		}
		row(1, psLoopback, 2, nil)
		row(1, psLoopback, 23, fec0)
		return out, "", true
	case "get-dnsclient":
		var out []interface{}
		for _, a := range x.presentAdapters() {
			out = append(out, psObj{{"InterfaceAlias", a.Name}, {"InterfaceIndex", a.IfIndex}, {"ConnectionSpecificSuffix", a.DNSSuffix},
				{"RegisterThisConnectionsAddress", a.RegisterInDNS}, {"UseSuffixWhenRegistering", false}})
		}
		out = append(out, psObj{{"InterfaceAlias", psLoopback}, {"InterfaceIndex", 1}, {"ConnectionSpecificSuffix", ""},
			{"RegisterThisConnectionsAddress", true}, {"UseSuffixWhenRegistering", false}})
		return out, "", true
	case "get-netconnectionprofile":
		// Connected adapters only; NetworkCategory 0 Public 1 Private 2 DomainAuthenticated.
		var out []interface{}
		for _, a := range x.presentAdapters() {
			if a.Status != "Up" {
				continue
			}
			cat := map[string]int{"Public": 0, "Private": 1, "DomainAuthenticated": 2}[a.Category]
			name := "Network"
			if cat == 2 {
				name = m.Domain
			} else if len(a.Gateways) == 0 && !a.DHCP {
				name = "Unidentified network"
			}
			out = append(out, psObj{{"Name", name}, {"InterfaceAlias", a.Name}, {"InterfaceIndex", a.IfIndex}, {"NetworkCategory", cat},
				{"IPv4Connectivity", 3}, {"IPv6Connectivity", 1}})
		}
		return out, "", true
	case "get-netlbfoteam":
		if x.g.Seed.v2oClient() {
			// LBFO is a Windows Server feature; on Windows 10/11 the cmdlet exists and fails.
			return nil, x.psError(src, "Get-NetLbfoTeam", "The LBFO feature is not currently enabled, or LBFO is not supported on this SKU.",
				"NotSpecified", "MSFT_NetLbfoTeam:root/StandardCimv2/MSFT_NetLbfoTeam", "Windows System Error 50,Get-NetLbfoTeam"), true
		}
		var out []interface{}
		for _, t := range m.Network.Teams {
			out = append(out, psObj{{"Name", t.Name}, {"Members", psStrings(t.Members)}, {"TeamingMode", t.TeamingMode},
				{"LoadBalancingAlgorithm", 6}, {"Status", 0}})
		}
		return out, "", true
	case "get-disk":
		// OfflineReason 1 Policy (the SAN policy kept it offline), null when online; PartitionStyle
		// 0 RAW 1 MBR 2 GPT (MSFT_Disk).
		var out []interface{}
		for _, d := range m.Disks {
			var reason interface{}
			if !d.Online {
				reason = 1
			}
			out = append(out, psObj{{"Number", d.Number}, {"FriendlyName", "VMware Virtual disk"}, {"SerialNumber", nil},
				{"IsOffline", !d.Online}, {"OfflineReason", reason}, {"IsSystem", d.System}, {"IsBoot", d.Boot},
				{"PartitionStyle", map[string]int{"RAW": 0, "MBR": 1, "GPT": 2}[d.PartitionStyle]}, {"Size", d.SizeBytes}})
		}
		return out, "", true
	case "get-partition":
		var out []interface{}
		for _, p := range x.partitions() {
			letter := psChar(0)
			if p.letter != "" {
				letter = psChar(p.letter[0])
			}
			var paths interface{}
			if p.paths != nil {
				paths = p.paths
			}
			out = append(out, psObj{{"DiskNumber", p.disk}, {"PartitionNumber", p.number}, {"DriveLetter", letter},
				{"AccessPaths", paths}, {"Size", p.size}, {"Type", map[bool]string{true: "Reserved", false: "Basic"}[p.msr]}})
		}
		return out, "", true
	case "get-volume":
		var out []interface{}
		vol := func(letter, label, fs string, size, free int64, path, typ string) {
			var l interface{}
			if letter != "" {
				l = psChar(letter[0])
			}
			out = append(out, psObj{{"DriveLetter", l}, {"FileSystemLabel", label}, {"FileSystem", fs}, {"DriveType", typ},
				{"HealthStatus", 0}, {"Size", size}, {"SizeRemaining", free}, {"Path", path}})
		}
		for _, d := range m.Disks {
			if !d.Online {
				continue
			}
			for _, v := range d.Volumes {
				vol(v.DriveLetter, v.Label, v.FileSystem, v.SizeBytes, v.FreeBytes, v.GUID, "Fixed")
			}
		}
		for _, cd := range x.cdroms() {
			fs := ""
			if cd[1] != "" {
				fs = "CDFS"
			}
			vol(cd[0][:1], cd[1], fs, 0, 0, `\\?\Volume{`+v2oGUIDFrom("cd", x.g.Seed.HostName, cd[0])+`}\`, "CD-ROM")
		}
		return out, "", true
	case "get-storagesetting":
		// NewDiskPolicy 1 OnlineAll 2 OfflineShared 3 OfflineAll 4 OfflineInternal (MSFT_StorageSetting).
		return []interface{}{psObj{{"NewDiskPolicy", x.sanPolicy()}, {"ScrubPolicy", 0}}}, "", true
	case "get-bitlockervolume":
		// ProtectionStatus 0 Off 1 On 2 Unknown; VolumeStatus 0 FullyDecrypted 1 FullyEncrypted
		// 2 EncryptionInProgress 3 DecryptionInProgress 4 EncryptionPaused 5 DecryptionPaused.
		var out []interface{}
		for _, b := range m.Bitlocker {
			out = append(out, psObj{{"ComputerName", strings.ToUpper(x.g.Seed.HostName)}, {"MountPoint", b.MountPoint},
				{"VolumeType", 0}, {"VolumeStatus", map[string]int{"FullyDecrypted": 0, "FullyEncrypted": 1, "EncryptionInProgress": 2,
					"DecryptionInProgress": 3, "EncryptionPaused": 4, "DecryptionPaused": 5}[b.VolumeStatus]},
				{"ProtectionStatus", map[string]int{"Off": 0, "On": 1, "Unknown": 2}[b.Protection]}})
		}
		return out, "", true
	case "get-itemproperty":
		p := param("-Path", "-LiteralPath")
		o, ok := x.regObject(p)
		if !ok {
			msg := "Cannot find path '" + p + "' because it does not exist."
			if x.g.Seed.v2oGerman() {
				msg = "Der Pfad \"" + p + "\" kann nicht gefunden werden, da er nicht vorhanden ist."
			}
			return nil, x.psError(src, "Get-ItemProperty", msg,
				"ObjectNotFound", p+":String", "PathNotFound,Microsoft.PowerShell.Commands.GetItemPropertyCommand"), true
		}
		return []interface{}{o}, "", true
	case "test-path":
		p := param("-Path", "-LiteralPath")
		res := false
		if strings.HasPrefix(strings.ToUpper(p), "HKLM:") || strings.HasPrefix(strings.ToUpper(p), "REGISTRY::") {
			_, res, _ = x.g.regGet(p, "")
		} else {
			res = x.exists(p)
		}
		return []interface{}{res}, "", true
	}
	return nil, "", false
}

// --- pipelines, variables, the pre-shutdown cmdlets -------------------------------------------

// psPipelineOf: whether a statement is a pipeline the capture runs (its first command one of
// psSource's, or piped into Select-Object / ConvertTo-Json); other pipelines keep the older
// handling of their first command.
func (x *v2oExec) psPipelineOf(stages []string) bool {
	first := strings.ToLower(strings.Fields(strings.TrimSpace(stages[0]) + " ")[0])
	if psModuleCmdlets[first] && first != "get-volume" && first != "get-ciminstance" || strings.HasPrefix(first, "$psversiontable") ||
		strings.HasPrefix(first, "$executioncontext") || first == "get-itemproperty" || first == "test-path" {
		return true
	}
	for _, s := range stages[1:] {
		n := strings.ToLower(strings.Fields(strings.TrimSpace(s) + " ")[0])
		if n == "select-object" || n == "select" || n == "convertto-json" {
			return true
		}
	}
	return false
}

// psPipeline runs "SOURCE | Select-Object … | ConvertTo-Json …" (Out-File already cut off by
// psScript). A command that does not exist fails the whole pipeline before it starts: nothing
// runs, Out-File creates no file (x.psAborted).
func (x *v2oExec) psPipeline(stages []string, out *v2oOut) (int32, bool) {
	src := strings.TrimSpace(stages[0])
	objs, errText, found := x.psSource(src)
	if !found {
		cmd := strings.Fields(src)[0]
		out.stderr.WriteString(x.psNotRecognized(strings.TrimSpace(strings.Join(stages, "|")), cmd))
		x.psAborted = true
		return -1, false
	}
	out.stderr.WriteString(errText)
	converted, discard := false, false
	for _, s := range stages[1:] {
		a := v2oPSArgs(strings.TrimSpace(s))
		if len(a) == 0 {
			continue
		}
		switch strings.ToLower(a[0]) {
		case "out-null":
			discard = true
		case "select-object", "select":
			var props []string
			for i := 1; i < len(a); i++ {
				if strings.EqualFold(a[i], "-Property") {
					continue
				}
				for _, p := range strings.Split(a[i], ",") {
					if p = strings.TrimSpace(p); p != "" {
						props = append(props, p)
					}
				}
			}
			objs = psSelect(objs, props)
		case "convertto-json":
			depth, compress := 2, false // -Depth defaults to 2 (Microsoft "ConvertTo-Json")
			for i := 1; i < len(a); i++ {
				switch strings.ToLower(a[i]) {
				case "-depth":
					if i+1 < len(a) {
						depth, _ = strconv.Atoi(a[i+1])
						i++
					}
				case "-compress":
					compress = true
				}
			}
			js, ok := psConvertToJSON(objs, depth, compress)
			objs = nil
			if ok {
				objs = []interface{}{js}
			}
			converted = true
		}
	}
	if discard {
		return -1, errText == ""
	}
	for _, o := range objs {
		if s, ok := o.(string); ok && converted {
			out.stdout.WriteString(s + crlf)
		}
	}
	if !converted {
		out.stdout.WriteString(psFormatList(objs))
	}
	return -1, errText == ""
}

var psVarRef = regexp.MustCompile(`\$([A-Za-z_][A-Za-z0-9_]*)`)

// psExpandVars: "$d\x.json" — a variable the script assigned, expanded in double-quoted and bare
// arguments, never in single-quoted ones (Microsoft "about_Quoting_Rules").
func (x *v2oExec) psExpandVars(st string) string {
	if len(x.psVars) == 0 {
		return st
	}
	var b strings.Builder
	var q byte
	seg := strings.Builder{}
	flush := func() {
		b.WriteString(psVarRef.ReplaceAllStringFunc(seg.String(), func(m string) string {
			if v, ok := x.psVars[strings.ToLower(m[1:])]; ok {
				return v
			}
			return m
		}))
		seg.Reset()
	}
	for i := 0; i < len(st); i++ {
		c := st[i]
		switch {
		case q == '\'':
			b.WriteByte(c)
			if c == '\'' {
				q = 0
			}
		case c == '\'' && q == 0:
			flush()
			q = c
			b.WriteByte(c)
		case c == '"':
			seg.WriteByte(c)
			if q == '"' {
				q = 0
			} else {
				q = '"'
			}
		default:
			seg.WriteByte(c)
		}
	}
	flush()
	return b.String()
}

var psAssign = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$`)

// psAssignment records `$d = 'C:\…'` (a quoted literal); other assignments are not simulated.
func (x *v2oExec) psAssignment(st string) {
	m := psAssign.FindStringSubmatch(st)
	if m == nil {
		return
	}
	v := strings.TrimSpace(m[2])
	if len(v) >= 2 && (v[0] == '\'' && v[len(v)-1] == '\'' || v[0] == '"' && v[len(v)-1] == '"') {
		if x.psVars == nil {
			x.psVars = map[string]string{}
		}
		inner := v[1 : len(v)-1]
		if v[0] == '"' {
			inner = x.psExpandVars(inner)
		}
		x.psVars[strings.ToLower(m[1])] = inner
	}
}

// psExtra: cmdlets of issue 13 outside a pipeline. handled false: not one of them.
func (x *v2oExec) psExtra(st string, out *v2oOut) (code int32, ok, handled bool) {
	a := v2oPSArgs(st)
	if len(a) == 0 {
		return 0, true, false
	}
	name := strings.ToLower(a[0])
	param := func(n string) string {
		for i := 1; i+1 < len(a); i++ {
			if strings.EqualFold(a[i], n) {
				return a[i+1]
			}
		}
		return ""
	}
	switch name {
	case "add-type":
		// Constrained Language Mode forbids defining types (Microsoft "about_Language_Modes":
		// "Add-Type … can't be used"); the first-boot task's SetupAPI ghost removal needs it.
		if x.g.Model.LanguageMode != "FullLanguage" {
			out.stderr.WriteString(x.psError(st, "Add-Type", "Cannot add type. Definition of new types is not supported in this language mode.",
				"PermissionDenied", ":", "CannotDefineNewType,Microsoft.PowerShell.Commands.AddTypeCommand"))
			return -1, false, true
		}
		return -1, true, true
	case "suspend-bitlocker", "resume-bitlocker":
		if !x.psAvailable(name) {
			out.stderr.WriteString(x.psNotRecognized(st, a[0]))
			return -1, false, true
		}
		x.psModules = true
		mp := strings.ToUpper(strings.TrimSuffix(param("-MountPoint"), `\`))
		for i := range x.g.Model.Bitlocker {
			b := &x.g.Model.Bitlocker[i]
			if !strings.EqualFold(b.MountPoint, mp) {
				continue
			}
			if b.VolumeStatus == "FullyDecrypted" {
				// A volume BitLocker never encrypted has no protection to suspend (FVE_E_NOT_ENCRYPTED).
				out.stderr.WriteString(x.psError(st, a[0], "BitLocker Drive Encryption is not enabled on this drive. Turn on BitLocker. (Exception from HRESULT: 0x80310001)",
					"NotSpecified", ":", "System.Runtime.InteropServices.COMException,Microsoft.BitLocker.Structures.BitLockerVolumeInternal."+strings.TrimSuffix(a[0], "-BitLocker")))
				return -1, false, true
			}
			// Suspend: protectors disabled, the key in the clear on the disk, the volume still
			// encrypted; -RebootCount 0 keeps it so until Resume-BitLocker (Microsoft "Suspend-BitLocker").
			b.Protection = map[bool]string{true: "Off", false: "On"}[name == "suspend-bitlocker"]
			out.stdout.WriteString(crlf + "   ComputerName: " + strings.ToUpper(x.g.Seed.HostName) + crlf + crlf +
				"VolumeType      Mount CapacityGB VolumeStatus           Encryption KeyProtector              AutoUnlock Protection" + crlf +
				"                Point                                   Percentage                           Enabled    Status" + crlf +
				"----------      ----- ---------- ------------           ---------- ------------              ---------- ----------" + crlf +
				fmt.Sprintf("OperatingSystem %-5s %10s %-22s %10s %-25s %-10s %s", b.MountPoint, "0.06", b.VolumeStatus, "100", "{Tpm, RecoveryPassword}", "", b.Protection) + crlf + crlf)
			return -1, true, true
		}
		out.stderr.WriteString(x.psError(st, a[0], "The system cannot find the drive specified. (Exception from HRESULT: 0x8007000F)",
			"NotSpecified", ":", "System.Runtime.InteropServices.COMException,Microsoft.BitLocker.Structures.BitLockerVolumeInternal.GetBitLockerVolume"))
		return -1, false, true
	}
	if psModuleCmdlets[name] && name != "get-volume" && name != "get-ciminstance" || name == "$psversiontable.psversion" || name == "$executioncontext.sessionstate.languagemode" {
		objs, errText, found := x.psSource(st)
		if !found {
			out.stderr.WriteString(x.psNotRecognized(st, a[0]))
			return -1, false, true
		}
		out.stderr.WriteString(errText)
		out.stdout.WriteString(psFormatList(objs))
		return -1, errText == "", true
	}
	return 0, true, false
}

// psScriptBlocked: a script file under an execution policy Group Policy sets. The GPO
// (HKLM\SOFTWARE\Policies\Microsoft\Windows\PowerShell EnableScripts/ExecutionPolicy) wins over
// -ExecutionPolicy on the command line (Microsoft "about_Execution_Policies": "Group Policy …
// overrides … the ExecutionPolicy parameter"); -Command / -EncodedCommand are not scripts.
func (x *v2oExec) psScriptBlocked(path string, data []byte) string {
	key := `HKLM\SOFTWARE\Policies\Microsoft\Windows\PowerShell`
	en, _, hasEn := x.g.regGet(key, "EnableScripts")
	pol, _, hasPol := x.g.regGet(key, "ExecutionPolicy")
	if !hasEn && !hasPol {
		return ""
	}
	policy := ""
	if hasPol {
		policy = strings.ToLower(fmt.Sprint(pol.Data))
	}
	if hasEn && fmt.Sprint(en.Data) == "0" {
		policy = "restricted"
	}
	signed := bytes.Contains(data, []byte("# SIG # Begin signature block"))
	tail := " For more information about running scripts and bypassing execution policy, see about_Execution_Policies at https:/go.microsoft.com/fwlink/?LinkID=135170." + crlf +
		"    + CategoryInfo          : SecurityError: (:) [], ParentContainsErrorRecordException" + crlf +
		"    + FullyQualifiedErrorId : UnauthorizedAccess" + crlf
	switch policy {
	case "restricted":
		return "File " + path + " cannot be loaded because running scripts is disabled on this system." + tail
	case "allsigned":
		if !signed {
			return "File " + path + " cannot be loaded. The file " + path + " is not digitally signed. You cannot run this script on the current system." + tail
		}
	}
	return ""
}
