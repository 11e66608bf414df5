// v2o lab add-on compiled INTO package simulator (test-only): the simulated guest's state travels
// inside the boot disk's bytes, as a real guest's registry hive and files live on its disk. A
// fixed region of every seeded boot disk (make-disks.mjs fills it and points sector 0 at it, like
// a partition table points at a partition) holds a header (magic, version, length, sha256) and
// the guest model as JSON: registry, files, driver store, scheduled tasks, knobs. It is written
// whenever it can matter: at seeding, at every power-off (ShutdownGuest, PowerOffVM), at a reset,
// and when a test changes the guest of a powered-off VM. The lab's Nova reads it back from the
// raw content alone (test/lab/openstack/py/v2o_lab_nova.py).
//
// The region is patched in place in every file that holds it, so no export recompresses a whole
// disk: at its offset in a flat extent, in its preallocated grains in a monolithicSparse extent,
// and, in streamOptimized files (datastore disks and the streams the export lease serves), in
// grains that qemu-img wrote as zlib *stored* blocks (make-disks fills the region with
// incompressible bytes so they are), fixing each grain's adler32. The disk manifest
// ($LAB_DIR/vsphere-disks.json) is rewritten after every change, so its sha256 values stay the
// content's: a sha256 state is kept for the bytes before the region, and only the rest is hashed.
package simulator

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/adler32"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/vmware/govmomi/vim25/types"
)

// V2oStateMagic starts the state region; V2oStateVersion is the layout below.
const (
	V2oStateMagic   = "V2OGUEST"
	V2oStateVersion = 1
	v2oStateHeader  = 64 // magic 8, version u32, reserved u32, JSON length u64, sha256 32, padding
	v2oFileInline   = 64 << 10
)

// V2oTask is a scheduled task registered in the guest (schtasks /Create, zz_v2o_schtasks.go).
type V2oTask struct {
	Name     string `json:"name"`     // \v2o-firstboot
	Run      string `json:"run"`      // /TR
	Schedule string `json:"schedule"` // /SC: ONSTART, ...
	User     string `json:"user"`     // /RU
	Level    string `json:"level"`    // /RL
}

type v2oDiskFile struct {
	Size    int    `json:"size"`
	Sha256  string `json:"sha256"`
	Content []byte `json:"content,omitempty"` // base64; files up to 64 KiB
}

// v2oDiskModel is the JSON in the state region. Secrets (the guest password) stay out.
type v2oDiskModel struct {
	Version       int                    `json:"version"`
	VM            string                 `json:"vm"`
	Firmware      string                 `json:"firmware"` // bios | efi: what the disk was set up to boot with
	SecureBoot    bool                   `json:"secureBoot"`
	Seed          V2oGuestSeed           `json:"seed"`
	Registry      map[string]v2oRegValue `json:"registry"` // "HKEY_LOCAL_MACHINE\...\Key\Value"
	Keys          []string               `json:"keys"`     // every key, also those without values
	Dirs          []string               `json:"dirs"`
	Files         map[string]v2oDiskFile `json:"files"`
	Drivers       []V2oDriver            `json:"drivers"`
	Tasks         []V2oTask              `json:"tasks"`
	BrokenDrivers []string               `json:"brokenDrivers"`
	// The network identity, disks, BitLocker … (issue 13): inline, "network", "disks", ….
	V2oGuestModel
}

// v2oGuestModelLocked snapshots g (g.mu held) as it goes into the disk.
func v2oGuestModelLocked(vm *VirtualMachine, g *V2oGuest) v2oDiskModel {
	m := v2oDiskModel{
		Version: V2oStateVersion, VM: vm.Name, Firmware: "bios", Seed: g.Seed,
		Registry: map[string]v2oRegValue{}, Keys: []string{}, Dirs: []string{}, Files: map[string]v2oDiskFile{},
		Drivers: append([]V2oDriver{}, g.Drivers...), Tasks: append([]V2oTask{}, g.Tasks...),
		BrokenDrivers: append([]string{}, g.BrokenDrivers...),
		V2oGuestModel: g.Model.clone(),
	}
	m.Seed.Password = ""
	if vm.Config != nil {
		if vm.Config.Firmware == string(types.GuestOsDescriptorFirmwareTypeEfi) {
			m.Firmware = "efi"
		}
		if b := vm.Config.BootOptions; b != nil && b.EfiSecureBootEnabled != nil {
			m.SecureBoot = *b.EfiSecureBootEnabled
		}
	}
	for k, vals := range g.reg {
		m.Keys = append(m.Keys, g.regNames[k])
		for n, v := range vals {
			m.Registry[g.regNames[k]+`\`+g.regNames[k+"|"+n]] = v
		}
	}
	for k, c := range g.files {
		if c == nil {
			m.Dirs = append(m.Dirs, g.names[k])
			continue
		}
		sum := sha256.Sum256(c)
		f := v2oDiskFile{Size: len(c), Sha256: hex.EncodeToString(sum[:])}
		if len(c) <= v2oFileInline {
			f.Content = c
		}
		m.Files[g.names[k]] = f
	}
	sort.Strings(m.Keys)
	sort.Strings(m.Dirs)
	return m
}

// v2oEncodeRegion lays out the region: header + JSON, zero-padded to length.
func v2oEncodeRegion(m v2oDiskModel, length int64) ([]byte, error) {
	js, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if int64(len(js)) > length-v2oStateHeader {
		// Too big for the region: keep names and hashes, drop inline contents but the first-boot
		// files (what the lab's Nova reads), as a full hive would fail to save.
		for p, f := range m.Files {
			if !strings.HasPrefix(strings.ToLower(p), `c:\programdata\v2o\`) {
				f.Content = nil
				m.Files[p] = f
			}
		}
		if js, err = json.Marshal(m); err != nil {
			return nil, err
		}
		if int64(len(js)) > length-v2oStateHeader {
			return nil, fmt.Errorf("guest state of %s is %d bytes, the disk's state region holds %d", m.VM, len(js), length-v2oStateHeader)
		}
	}
	r := make([]byte, length)
	copy(r, V2oStateMagic)
	binary.LittleEndian.PutUint32(r[8:], V2oStateVersion)
	binary.LittleEndian.PutUint64(r[16:], uint64(len(js)))
	sum := sha256.Sum256(js)
	copy(r[24:56], sum[:])
	copy(r[v2oStateHeader:], js)
	return r, nil
}

// --- where the region lives in each file -----------------------------------------------------

type v2oPiece struct{ file, region, n int64 } // region[region:region+n] is at file offset file
type v2oAdler struct{ at, region, n int64 }   // adler32 (big-endian) of region[region:region+n]

type v2oStateFile struct {
	path   string
	pieces []v2oPiece
	adlers []v2oAdler
	from   int64  // bytes before this never change: their sha256 state is mid
	mid    []byte // marshalled sha256 state after [0, from)
}

type v2oStateDisk struct {
	vm                  string
	offset, length, cap int64
	raw                 string // the raw content the disk was built from (make-disks' cache, never written)
	rawMid, rawTail     []byte // sha256 state before the region; the raw bytes after it
	files               []*v2oStateFile
	manifest            map[string]interface{} // this disk's entry in the manifest
	last                []byte
}

var (
	v2oDisksDir, v2oDatastoreDir string // make-disks' cache; this start's datastore directory
	v2oDisksMu       sync.Mutex
	v2oStateDisks    = map[string]*v2oStateDisk{} // VM moref value -> its boot disk
	v2oManifest      map[string]interface{}
	v2oManifestOut   string
	v2oManifestMu    sync.Mutex
	v2oManifestFiles = map[string]map[string]interface{}{} // local path -> manifest entry holding sha256/size
)

func v2oSha256State(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(h, f, n); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h.(encoding.BinaryMarshaler).MarshalBinary()
}

// v2oSha256StateCached is v2oSha256State of a file in make-disks' cache (never written): kept
// beside it as <file>.sha256mid (keyed by size, mtime and n), so the 4 GiB bench disk is hashed
// once per build of the cache, not at every start.
var (
	v2oMidMu   sync.Mutex
	v2oMidOnce = map[string]*sync.Once{}
	v2oMidVal  = map[string][]byte{}
	v2oMidErr  = map[string]error{}
)

func v2oSha256StateCached(path string, n int64) ([]byte, error) {
	k := fmt.Sprintf("%s|%d", path, n)
	v2oMidMu.Lock()
	once := v2oMidOnce[k]
	if once == nil {
		once = new(sync.Once)
		v2oMidOnce[k] = once
	}
	v2oMidMu.Unlock()
	once.Do(func() {
		var mid []byte
		var err error
		st, serr := os.Stat(path)
		tag := ""
		if serr == nil {
			tag = fmt.Sprintf("%d %d %d\n", st.Size(), st.ModTime().UnixNano(), n)
		}
		cache := path + ".sha256mid"
		if b, rerr := os.ReadFile(cache); serr == nil && rerr == nil && strings.HasPrefix(string(b), tag) {
			mid, err = hex.DecodeString(strings.TrimSpace(strings.TrimPrefix(string(b), tag)))
		} else {
			mid, err = v2oSha256State(path, n)
			if err == nil && serr == nil {
				_ = os.WriteFile(cache, []byte(tag+hex.EncodeToString(mid)+"\n"), 0o644)
			}
		}
		v2oMidMu.Lock()
		v2oMidVal[k], v2oMidErr[k] = mid, err
		v2oMidMu.Unlock()
	})
	v2oMidMu.Lock()
	defer v2oMidMu.Unlock()
	return v2oMidVal[k], v2oMidErr[k]
}

func v2oResume(mid []byte) (h interface {
	io.Writer
	Sum([]byte) []byte
}) {
	d := sha256.New()
	if err := d.(encoding.BinaryUnmarshaler).UnmarshalBinary(mid); err != nil {
		panic(err)
	}
	return d
}

// v2oLocate finds the region in a disk file from its bytes: KDMV sparse extents (monolithicSparse
// or streamOptimized) by their grain tables or grain markers, anything else as a flat extent.
func v2oLocate(path string, offset, length int64) (*v2oStateFile, error) {
	sf := &v2oStateFile{path: path}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	hdr := make([]byte, 512)
	if _, err := f.ReadAt(hdr, 0); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if string(hdr[0:4]) != "KDMV" {
		sf.pieces = []v2oPiece{{offset, 0, length}}
	} else {
		// VMware "Virtual Disk Format 5.0": SparseExtentHeader, little-endian, packed.
		flags := binary.LittleEndian.Uint32(hdr[8:])
		grain := int64(binary.LittleEndian.Uint64(hdr[20:])) * 512
		perGT := int64(binary.LittleEndian.Uint32(hdr[44:]))
		gdOffset := int64(binary.LittleEndian.Uint64(hdr[56:]))
		overHead := int64(binary.LittleEndian.Uint64(hdr[64:]))
		compressed := flags&(1<<16) != 0
		if grain == 0 || offset%grain != 0 || length%grain != 0 {
			return nil, fmt.Errorf("%s: state region not grain-aligned", path)
		}
		if !compressed {
			sector := func(at int64) (int64, error) {
				b := make([]byte, 4)
				if _, err := f.ReadAt(b, at); err != nil {
					return 0, err
				}
				return int64(binary.LittleEndian.Uint32(b)), nil
			}
			for g := offset / grain; g < (offset+length)/grain; g++ {
				gt, err := sector(gdOffset*512 + (g/perGT)*4)
				if err != nil {
					return nil, err
				}
				gs, err := sector(gt*512 + (g%perGT)*4)
				if err != nil {
					return nil, err
				}
				if gt == 0 || gs <= 1 {
					return nil, fmt.Errorf("%s: grain %d of the state region is not allocated", path, g)
				}
				sf.pieces = append(sf.pieces, v2oPiece{gs * 512, g*grain - offset, grain})
			}
		} else if err := v2oLocateStream(f, sf, overHead, grain, offset, length); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	sf.from = -1
	for _, p := range sf.pieces {
		if sf.from < 0 || p.file < sf.from {
			sf.from = p.file
		}
	}
	for _, a := range sf.adlers {
		if a.at < sf.from {
			sf.from = a.at
		}
	}
	return sf, nil
}

// v2oLocateStream walks a streamOptimized file's markers (grain: lba u64, size u32, zlib data;
// metadata: numSectors u64, 0 u32, type u32) and maps the region's grains, which must be zlib
// streams of stored deflate blocks (RFC 1950/1951) so their data can be replaced in place.
func v2oLocateStream(f *os.File, sf *v2oStateFile, overHead, grain, offset, length int64) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil && err != io.EOF {
		return err
	}
	found := map[int64]bool{}
	for pos := overHead * 512; pos+512 <= int64(len(data)); {
		lba := int64(binary.LittleEndian.Uint64(data[pos:]))
		size := int64(binary.LittleEndian.Uint32(data[pos+8:]))
		if size == 0 {
			if binary.LittleEndian.Uint32(data[pos+12:]) == 0 { // end-of-stream marker
				break
			}
			pos += 512 * (1 + lba)
			continue
		}
		at := lba * 512
		if at >= offset && at < offset+length {
			z := data[pos+12 : pos+12+size]
			if len(z) < 6 || z[0]&0x0f != 8 || z[1]&0x20 != 0 {
				return fmt.Errorf("grain at %d is not a zlib stream", at)
			}
			var got int64
			p := int64(2)
			for {
				b := z[p]
				if (b>>1)&3 != 0 {
					if b == 0x03 && z[p+1] == 0x00 && got == grain { // an empty final fixed-Huffman block
						p += 2
						break
					}
					return fmt.Errorf("grain at %d has compressed deflate blocks: make-disks' state filler must be incompressible", at)
				}
				n := int64(binary.LittleEndian.Uint16(z[p+1:]))
				sf.pieces = append(sf.pieces, v2oPiece{pos + 12 + p + 5, at - offset + got, n})
				got += n
				p += 5 + n
				if b&1 == 1 {
					break
				}
			}
			if got != grain {
				return fmt.Errorf("grain at %d holds %d bytes, not %d", at, got, grain)
			}
			sf.adlers = append(sf.adlers, v2oAdler{pos + 12 + p, at - offset, grain})
			found[at] = true
		}
		pos += (12 + size + 511) / 512 * 512
	}
	if int64(len(found)) != length/grain {
		return fmt.Errorf("%d of %d grains of the state region are in the stream", len(found), length/grain)
	}
	return nil
}

func (sf *v2oStateFile) write(region []byte) error {
	if len(sf.adlers) == 0 && len(sf.pieces) == 1 {
		// a flat extent the CBT add-on models: through its layers (a snapshot's delta) and tracked
		p := sf.pieces[0]
		if routed, err := v2oCbtGuestWrite(sf.path, region[p.region:p.region+p.n], p.file); routed {
			return err
		}
	}
	f, err := os.OpenFile(sf.path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range sf.pieces {
		if _, err := f.WriteAt(region[p.region:p.region+p.n], p.file); err != nil {
			return err
		}
	}
	for _, a := range sf.adlers {
		b := make([]byte, 4)
		binary.BigEndian.PutUint32(b, adler32.Checksum(region[a.region:a.region+a.n]))
		if _, err := f.WriteAt(b, a.at); err != nil {
			return err
		}
	}
	return nil
}

func (sf *v2oStateFile) sum() (string, int64, error) {
	f, err := os.Open(sf.path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := v2oResume(sf.mid)
	if _, err := f.Seek(sf.from, io.SeekStart); err != nil {
		return "", 0, err
	}
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), sf.from + n, nil
}

// --- set-up from make-disks' manifest ---------------------------------------------------------

// V2oSetupDisks points the export leases at the streams make-disks built (copied into workDir,
// so patching them leaves the cache alone), prepares every seeded boot disk's state region,
// writes each VM's guest state into it, and writes the disk manifest to manifestOut.
// morefs maps VM names to their morefs.
func V2oSetupDisks(disksDir, dsDir, workDir, manifestOut string, morefs map[string]string) error {
	v2oDisksDir, v2oDatastoreDir = disksDir, dsDir
	mb, err := os.ReadFile(filepath.Join(disksDir, "manifest.json"))
	if err != nil {
		return err
	}
	var man map[string]interface{}
	if err := json.Unmarshal(mb, &man); err != nil {
		return err
	}
	if out, err := exec.Command("cp", "-a", "--sparse=always", filepath.Join(disksDir, "export")+"/.", workDir+"/").CombinedOutput(); err != nil {
		return fmt.Errorf("copy export streams: %v: %s", err, out)
	}
	str := func(m map[string]interface{}, k string) string { s, _ := m[k].(string); return s }
	num := func(m map[string]interface{}, k string) int64 { n, _ := m[k].(float64); return int64(n) }
	man["datastoreDir"] = dsDir
	var disks []*v2oStateDisk
	var setup []func() error
	for _, v := range man["vms"].([]interface{}) {
		vm := v.(map[string]interface{})
		ref := morefs[str(vm, "name")]
		vm["moref"] = ref
		folder := str(vm, "folder")
		delete(vm, "folder")
		for _, dv := range vm["disks"].([]interface{}) {
			d := dv.(map[string]interface{})
			d["localPath"] = filepath.Join(dsDir, folder, str(d, "fileName"))
			for _, fv := range d["files"].([]interface{}) {
				fe := fv.(map[string]interface{})
				fe["localPath"] = filepath.Join(dsDir, folder, str(fe, "name"))
				v2oManifestFiles[str(fe, "localPath")] = fe
			}
			exp := d["export"].(map[string]interface{})
			if rel := str(exp, "file"); strings.HasPrefix(rel, "ds/") {
				exp["localPath"] = filepath.Join(dsDir, strings.TrimPrefix(rel, "ds/"))
			} else {
				exp["localPath"] = filepath.Join(workDir, strings.TrimPrefix(rel, "export/"))
			}
			if _, dup := v2oManifestFiles[str(exp, "localPath")]; !dup {
				v2oManifestFiles[str(exp, "localPath")] = exp
			}
			V2oSetExportSource(str(d, "localPath"), str(exp, "localPath"))
			region, ok := d["stateRegion"].(map[string]interface{})
			if !ok || ref == "" {
				continue
			}
			sd := &v2oStateDisk{vm: ref, offset: num(region, "offset"), length: num(region, "length"),
				cap: num(d, "capacityBytes"), raw: filepath.Join(disksDir, str(region, "raw")), manifest: d}
			paths := []string{}
			for _, fv := range d["files"].([]interface{}) {
				fe := fv.(map[string]interface{})
				// a monolithicFlat descriptor holds no data: only its extent changes
				if !strings.HasSuffix(str(d, "format"), "Flat") || strings.HasSuffix(str(fe, "name"), "-flat.vmdk") {
					paths = append(paths, str(fe, "localPath"))
				}
			}
			if p := str(exp, "localPath"); p != paths[0] {
				paths = append(paths, p)
			}
			for _, p := range paths {
				p := p
				sf := &v2oStateFile{path: p}
				sd.files = append(sd.files, sf)
				setup = append(setup, func() error {
					loc, err := v2oLocate(p, sd.offset, sd.length)
					if err != nil {
						return err
					}
					*sf = *loc
					if strings.HasSuffix(p, "-flat.vmdk") && sf.from == sd.offset {
						// a flat extent holds the raw content byte for byte: share its (cached) state
						sf.mid, err = v2oSha256StateCached(sd.raw, sd.offset)
					} else {
						sf.mid, err = v2oSha256State(p, sf.from)
					}
					return err
				})
			}
			setup = append(setup, func() error {
				var err error
				if sd.rawMid, err = v2oSha256StateCached(sd.raw, sd.offset); err != nil {
					return err
				}
				f, err := os.Open(sd.raw)
				if err != nil {
					return err
				}
				defer f.Close()
				sd.rawTail = make([]byte, sd.cap-sd.offset-sd.length)
				_, err = f.ReadAt(sd.rawTail, sd.offset+sd.length)
				return err
			})
			disks = append(disks, sd)
		}
	}
	// Hashing the bytes before each region once takes a moment: both cores.
	errs := make(chan error, len(setup))
	sem := make(chan struct{}, 2)
	for _, fn := range setup {
		fn := fn
		go func() { sem <- struct{}{}; errs <- fn(); <-sem }()
	}
	for range setup {
		if err := <-errs; err != nil {
			return err
		}
	}
	v2oManifestMu.Lock()
	v2oManifest, v2oManifestOut = man, manifestOut
	v2oManifestMu.Unlock()
	v2oDisksMu.Lock()
	for _, sd := range disks {
		v2oStateDisks[sd.vm] = sd
	}
	v2oDisksMu.Unlock()
	for _, sd := range disks {
		if vm, ok := Map.Get(types.ManagedObjectReference{Type: "VirtualMachine", Value: sd.vm}).(*VirtualMachine); ok {
			if err := V2oFlushGuestState(vm); err != nil {
				return err
			}
		}
	}
	return v2oWriteManifest()
}

func v2oWriteManifest() error {
	v2oManifestMu.Lock()
	defer v2oManifestMu.Unlock()
	if v2oManifestOut == "" {
		return nil
	}
	b, err := json.MarshalIndent(v2oManifest, "", "  ")
	if err != nil {
		return err
	}
	tmp := v2oManifestOut + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, v2oManifestOut)
}

// V2oFlushGuestState writes the VM's guest state into its boot disk (a no-op for VMs without a
// seeded boot disk, or when nothing changed) and brings the manifest's sha256 values up to date.
func V2oFlushGuestState(vm *VirtualMachine) error {
	v2oDisksMu.Lock()
	sd := v2oStateDisks[vm.Self.Value]
	v2oDisksMu.Unlock()
	g := v2oGuestOf(vm.Self.Value)
	if sd == nil || g == nil {
		return nil
	}
	g.mu.Lock()
	m := v2oGuestModelLocked(vm, g)
	g.mu.Unlock()
	region, err := v2oEncodeRegion(m, sd.length)
	if err != nil {
		return err
	}
	v2oDisksMu.Lock()
	defer v2oDisksMu.Unlock()
	if bytes.Equal(region, sd.last) {
		return nil
	}
	h := v2oResume(sd.rawMid)
	h.Write(region)
	h.Write(sd.rawTail)
	v2oManifestMu.Lock()
	sd.manifest["rawSha256"] = hex.EncodeToString(h.Sum(nil))
	v2oManifestMu.Unlock()
	for _, sf := range sd.files {
		if err := sf.write(region); err != nil {
			return err
		}
		sum, size, err := sf.sum()
		if err != nil {
			return err
		}
		v2oManifestMu.Lock()
		if e := v2oManifestFiles[sf.path]; e != nil {
			e["sha256"], e["size"] = sum, size
		}
		// a streamOptimized datastore disk is also what the lease serves
		if exp, _ := sd.manifest["export"].(map[string]interface{}); exp != nil && exp["localPath"] == sf.path {
			exp["sha256"], exp["size"] = sum, size
		}
		v2oManifestMu.Unlock()
	}
	sd.last = region
	return v2oWriteManifest()
}

// v2oFlushLogged is V2oFlushGuestState for callers that cannot return an error (power handlers).
func v2oFlushLogged(vm *VirtualMachine) {
	if err := V2oFlushGuestState(vm); err != nil {
		log.Printf("v2o: writing the guest state of %s into its disk: %v", vm.Name, err)
	}
}

// v2oFlushIfOff writes the guest state of a powered-off VM (a test changed it through a hook).
func v2oFlushIfOff(vm *VirtualMachine) {
	if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOff {
		v2oFlushLogged(vm)
	}
}
