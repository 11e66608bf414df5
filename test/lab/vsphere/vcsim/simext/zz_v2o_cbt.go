// v2o lab add-on compiled INTO package simulator (test-only): Changed Block Tracking, snapshots
// that freeze flat extents, QueryChangedDiskAreas, and the disk hooks of issue 14.
//
// What vcsim 0.24 does by itself (govmomi simulator/virtual_machine.go, snapshot.go): ReconfigVM
// stores config.changeTrackingEnabled and nothing else; CreateSnapshot_Task copies vm.Config by
// value into the snapshot (sharing the device pointers) and creates an empty .vmsn; disk
// backings never change and no disk byte is ever read or written; QueryChangedDiskAreas is not
// implemented (MethodNotFound). The build renames upstream CreateSnapshotTask, RemoveSnapshotTask
// and RemoveAllSnapshotsTask (up.sh) and the methods here wrap them.
//
// The model, per disk whose descriptor says it is one flat extent (createType monolithicFlat or
// vmfs; VMware "Virtual Disk Format 1.1", createType/extent lines): a chain of layers, [0] the
// flat extent on the datastore (the real data file), [1..] one delta per snapshot, as ESXi keeps
// "<disk>-00000N.vmdk" redo logs whose parent is the disk the snapshot froze (vSphere Web Services
// API, VirtualDiskFlatVer2BackingInfo.parent; VMware KB 1015180 "Understanding virtual machine
// snapshots"). The guest writes into the top layer; a snapshot freezes everything below its delta,
// so the base flat extent holds exactly the snapshot's bytes and can be read by Range over
// /folder while the guest goes on writing. RemoveSnapshot_Task merges the delta down
// (consolidation). Delta data files are plain sparse files of the disk's size here (ESXi writes
// vmfsSparse/seSparse grains): their descriptors say createType "vmfsSparse", which no reader
// may take for a flat extent.
//
// CBT (VMware KB 1020128 "Changed Block Tracking (CBT) on virtual machines"; KB 1031873
// "Enabling or disabling Changed Block Tracking"): config.changeTrackingEnabled takes effect at
// the next stun/unstun cycle (power on, snapshot create or delete); then every disk backing gets
// a changeId "52 xx xx xx xx xx xx xx-xx xx xx xx xx xx xx xx/<seq>" (the ctk file's UUID and a
// sequence number; format as ESXi shows it, e.g. in VMware's VDDK and vSphere API docs), the
// sequence moving on with every guest write. Changes are tracked at 64 KiB blocks.
package simulator

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	v2oCbtBlock = 64 << 10 // tracking granularity
	// One QueryChangedDiskAreas answer covers at most this much of the disk and this many areas;
	// callers page on with startOffset += length until the capacity (vSphere Web Services API,
	// QueryChangedDiskAreas: "callers will make multiple calls ... examine the length property in
	// the returned DiskChangeInfo ... until a map for the entire virtual disk has been obtained").
	// The limits are the lab's, chosen small so that tests see several pages, empty ones too.
	v2oCbtPageSpan  = 128 << 20
	v2oCbtPageAreas = 512
)

type v2oLayer struct {
	desc   string          // datastore path of its descriptor: "[LocalDS_0] dir/x-000001.vmdk"
	data   string          // local path of its data file
	blocks map[int64]bool  // deltas: the 64 KiB blocks they hold (nil for the base)
}

type v2oCbtWrite struct{ seq, start, end int64 }

type v2oCbtDisk struct {
	vm       string // moref value
	key      int32
	managed  bool   // a flat extent: bytes modelled; other formats only get changeIds
	capacity int64
	layers   []*v2oLayer
	snaps    []types.ManagedObjectReference // snaps[i] froze layers[0..i] and created layers[i+1]
	template types.VirtualDiskFlatVer2BackingInfo
	// CBT
	active bool
	epoch  string // "52 xx ... xx"
	seq    int64
	log    []v2oCbtWrite
}

type v2oSnapDisk struct {
	active   bool
	epoch    string
	seq      int64
	capacity int64
}

var (
	v2oCbtMu     sync.Mutex
	v2oCbtDisks  = map[string]map[int32]*v2oCbtDisk{} // vm moref -> device key
	v2oCbtByPath = map[string]*v2oCbtDisk{}          // local path of a base flat extent
	v2oSnapState = map[string]map[int32]v2oSnapDisk{}  // snapshot moref -> device key
	v2oSnapFault = map[string]string{}                 // vm moref -> "NoDiskSpace"
)

func (d *v2oCbtDisk) changeID() string {
	if !d.active {
		return ""
	}
	return fmt.Sprintf("%s/%d", d.epoch, d.seq)
}

// v2oNewEpoch: a ctk UUID as ESXi prints it, "52 xx xx xx xx xx xx xx-xx xx xx xx xx xx xx xx".
func v2oNewEpoch() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[0] = 0x52
	h := make([]string, 16)
	for i := range b {
		h[i] = hex.EncodeToString(b[i : i+1])
	}
	return strings.Join(h[:8], " ") + "-" + strings.Join(h[8:], " ")
}

// v2oDsLocal maps "[ds] dir/file" to the file on this machine.
func v2oDsLocal(vm *VirtualMachine, dsPath string) (string, error) {
	var p object.DatastorePath
	if !p.FromString(dsPath) {
		return "", fmt.Errorf("not a datastore path: %s", dsPath)
	}
	ds := vm.findDatastore(p.Datastore)
	if ds == nil {
		return "", fmt.Errorf("no datastore %s", p.Datastore)
	}
	return filepath.Join(ds.Info.GetDatastoreInfo().Url, p.Path), nil
}

var v2oExtentLine = regexp.MustCompile(`^RW\s+(\d+)\s+(FLAT|VMFS)\s+"([^"]+)"`)

// v2oReadDescriptor returns the descriptor's createType and, for a single flat extent, its file.
func v2oReadDescriptor(local string) (createType, extent string, sectors int64) {
	f, err := os.Open(local)
	if err != nil {
		return "", "", 0
	}
	defer f.Close()
	head := make([]byte, 4)
	if _, err := io.ReadFull(f, head); err != nil || string(head) == "KDMV" {
		return "", "", 0 // a sparse extent with an embedded descriptor: not flat
	}
	_, _ = f.Seek(0, io.SeekStart)
	sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
	n := 0
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "createType=") {
			createType = strings.Trim(strings.TrimPrefix(l, "createType="), `"`)
		}
		if m := v2oExtentLine.FindStringSubmatch(l); m != nil {
			n++
			extent = m[3]
			sectors, _ = strconv.ParseInt(m[1], 10, 64)
		}
	}
	if n != 1 || (createType != "monolithicFlat" && createType != "vmfs") {
		return createType, "", 0
	}
	return createType, extent, sectors
}

// v2oCbtDisksOf registers the VM's disks on first use (v2oCbtMu held).
func v2oCbtDisksOf(vm *VirtualMachine) map[int32]*v2oCbtDisk {
	m := v2oCbtDisks[vm.Self.Value]
	if m == nil {
		m = map[int32]*v2oCbtDisk{}
		v2oCbtDisks[vm.Self.Value] = m
	}
	if vm.Config == nil {
		return m
	}
	for _, dev := range vm.Config.Hardware.Device {
		disk, ok := dev.(*types.VirtualDisk)
		if !ok || m[disk.Key] != nil {
			continue
		}
		b, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
		if !ok {
			continue
		}
		d := &v2oCbtDisk{vm: vm.Self.Value, key: disk.Key, capacity: disk.CapacityInBytes, template: *b}
		if d.capacity == 0 {
			d.capacity = disk.CapacityInKB * 1024
		}
		d.template.Parent = nil
		if local, err := v2oDsLocal(vm, b.FileName); err == nil {
			if _, ext, _ := v2oReadDescriptor(local); ext != "" {
				data := filepath.Join(filepath.Dir(local), ext)
				if _, err := os.Stat(data); err == nil {
					d.managed = true
					d.layers = []*v2oLayer{{desc: b.FileName, data: data}}
					v2oCbtByPath[data] = d
				}
			}
		}
		m[disk.Key] = d
	}
	return m
}

func v2oDiskDevice(vm *VirtualMachine, key int32) *types.VirtualDisk {
	if vm.Config == nil {
		return nil
	}
	for _, dev := range vm.Config.Hardware.Device {
		if disk, ok := dev.(*types.VirtualDisk); ok && disk.Key == key {
			return disk
		}
	}
	return nil
}

// v2oDiskByIndex: the hooks' "disk" is the index among the VM's disks in device-key order.
func v2oDiskByIndex(vm *VirtualMachine, i int) *v2oCbtDisk {
	m := v2oCbtDisksOf(vm)
	keys := []int{}
	for k := range m {
		keys = append(keys, int(k))
	}
	sort.Ints(keys)
	if i < 0 || i >= len(keys) {
		return nil
	}
	return m[int32(keys[i])]
}

// v2oLiveBacking rebuilds the device's backing from the layer chain: the top layer's descriptor,
// parent = the layer below, ... (VirtualDiskFlatVer2BackingInfo.parent), changeId on the top.
func (d *v2oCbtDisk) liveBacking() *types.VirtualDiskFlatVer2BackingInfo {
	var parent *types.VirtualDiskFlatVer2BackingInfo
	n := 1
	if d.managed {
		n = len(d.layers)
	}
	for i := 0; i < n; i++ {
		b := d.template
		if d.managed {
			b.FileName = d.layers[i].desc
		}
		b.Parent = parent
		b.ChangeId = ""
		parent = &b
	}
	parent.ChangeId = d.changeID()
	return parent
}

func v2oSetLiveBacking(vm *VirtualMachine, d *v2oCbtDisk) {
	if dev := v2oDiskDevice(vm, d.key); dev != nil {
		dev.Backing = d.liveBacking()
		dev.CapacityInBytes = d.capacity
		dev.CapacityInKB = d.capacity / 1024
	}
}

func v2oPublishDevices(vm *VirtualMachine) {
	Map.Update(vm, []types.PropertyChange{{Name: "config.hardware.device", Val: vm.Config.Hardware.Device}})
}

// v2oCbtStun applies config.changeTrackingEnabled, as ESXi does at a stun/unstun (power on,
// snapshot create/remove; KB 1031873). Turning it on starts a new ctk (new UUID, so changeIds from
// before are refused); turning it off drops the ctk. v2oCbtMu held.
func v2oCbtStun(vm *VirtualMachine) {
	want := vm.Config != nil && vm.Config.ChangeTrackingEnabled != nil && *vm.Config.ChangeTrackingEnabled
	for _, d := range v2oCbtDisksOf(vm) {
		switch {
		case want && !d.active:
			d.active, d.epoch, d.seq, d.log = true, v2oNewEpoch(), 1, nil
		case !want && d.active:
			d.active, d.epoch, d.seq, d.log = false, "", 0, nil
		default:
			continue
		}
		v2oSetLiveBacking(vm, d)
	}
}

// v2oCbtStunPowerOn is the power watcher's stun at power-on.
func v2oCbtStunPowerOn(vm *VirtualMachine) {
	v2oCbtMu.Lock()
	defer v2oCbtMu.Unlock()
	v2oCbtStun(vm)
}

// --- bytes ------------------------------------------------------------------------------------

func (d *v2oCbtDisk) layerOf(block int64, top int) *v2oLayer {
	for i := top; i > 0; i-- {
		if d.layers[i].blocks[block] {
			return d.layers[i]
		}
	}
	return d.layers[0]
}

// readAt reads the disk as layers[0..top] hold it (beyond a file's end: zeros).
func (d *v2oCbtDisk) readAt(p []byte, off int64, top int) error {
	for len(p) > 0 {
		blk := off / v2oCbtBlock
		n := int64(len(p))
		if lim := (blk+1)*v2oCbtBlock - off; n > lim {
			n = lim
		}
		l := d.layerOf(blk, top)
		f, err := os.Open(l.data)
		if err != nil {
			return err
		}
		got, err := f.ReadAt(p[:n], off)
		f.Close()
		if err != nil && err != io.EOF {
			return err
		}
		for i := got; i < int(n); i++ {
			p[i] = 0
		}
		p, off = p[n:], off+n
	}
	return nil
}

// writeAt writes into the top layer (copy-on-write of partly written blocks into a delta) and,
// with CBT active, records the blocks under a new sequence number. v2oCbtMu held.
func (d *v2oCbtDisk) writeAt(p []byte, off int64, track bool) error {
	top := len(d.layers) - 1
	l := d.layers[top]
	f, err := os.OpenFile(l.data, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if top > 0 {
		end := off + int64(len(p))
		for blk := off / v2oCbtBlock; blk*v2oCbtBlock < end; blk++ {
			bs, be := blk*v2oCbtBlock, (blk+1)*v2oCbtBlock
			if l.blocks[blk] || (bs >= off && be <= end) {
				l.blocks[blk] = true
				continue
			}
			old := make([]byte, v2oCbtBlock)
			if err := d.readAt(old, bs, top-1); err != nil {
				return err
			}
			if _, err := f.WriteAt(old, bs); err != nil {
				return err
			}
			l.blocks[blk] = true
		}
	}
	if _, err := f.WriteAt(p, off); err != nil {
		return err
	}
	if track {
		d.track(off, off+int64(len(p)))
	}
	return nil
}

func (d *v2oCbtDisk) track(start, end int64) {
	if !d.active || end <= start {
		return
	}
	d.seq++
	d.log = append(d.log, v2oCbtWrite{d.seq, start, end})
}

// v2oCbtGuestWrite routes a write of the guest model's state region (zz_v2o_diskstate.go) into a
// flat extent through the layers, so CBT sees it like any guest write. False: not a modelled disk.
func v2oCbtGuestWrite(path string, p []byte, off int64) (bool, error) {
	v2oCbtMu.Lock()
	defer v2oCbtMu.Unlock()
	d := v2oCbtByPath[path]
	if d == nil {
		return false, nil
	}
	if err := d.writeAt(p, off, true); err != nil {
		return true, err
	}
	if vm, ok := Map.Get(types.ManagedObjectReference{Type: "VirtualMachine", Value: d.vm}).(*VirtualMachine); ok {
		if dev := v2oDiskDevice(vm, d.key); dev != nil {
			if b, ok := dev.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok {
				b.ChangeId = d.changeID()
			}
		}
	}
	return true, nil
}

// allocated: the 64 KiB blocks holding data in layers[0..top] (the flat extent's allocation as the
// file system reports it with SEEK_DATA/SEEK_HOLE, plus the deltas' blocks) — what vSphere answers
// for changeId "*" on VMFS: only allocated areas of a thin disk (vSphere Web Services API,
// QueryChangedDiskAreas, changeId: "*"; seen live: cloudbase/OpenVixDiskLib#6).
func (d *v2oCbtDisk) allocated(top int, capacity int64) ([][2]int64, error) {
	set := map[int64]bool{}
	f, err := os.Open(d.layers[0].data)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size > capacity {
		size = capacity
	}
	const seekData, seekHole = 3, 4 // lseek(2) SEEK_DATA, SEEK_HOLE
	var ranges [][2]int64
	for off := int64(0); off < size; {
		ds, err := syscall.Seek(int(f.Fd()), off, seekData)
		if err != nil || ds >= size {
			break
		}
		de, err := syscall.Seek(int(f.Fd()), ds, seekHole)
		if err != nil || de > size {
			de = size
		}
		ranges = append(ranges, [2]int64{ds, de})
		off = de
	}
	for _, r := range ranges {
		for b := r[0] / v2oCbtBlock; b*v2oCbtBlock < r[1]; b++ {
			set[b] = true
		}
	}
	for i := 1; i <= top; i++ {
		for b := range d.layers[i].blocks {
			set[b] = true
		}
	}
	return v2oBlockRuns(set, capacity), nil
}

func v2oBlockRuns(set map[int64]bool, capacity int64) [][2]int64 {
	blocks := make([]int64, 0, len(set))
	for b := range set {
		blocks = append(blocks, b)
	}
	sort.Slice(blocks, func(i, j int) bool { return blocks[i] < blocks[j] })
	var out [][2]int64
	for _, b := range blocks {
		s, e := b*v2oCbtBlock, (b+1)*v2oCbtBlock
		if e > capacity {
			e = capacity
		}
		if s >= e {
			continue
		}
		if n := len(out); n > 0 && out[n-1][1] == s {
			out[n-1][1] = e
		} else {
			out = append(out, [2]int64{s, e})
		}
	}
	return out
}

// changed: blocks written with from < seq <= to.
func (d *v2oCbtDisk) changed(from, to, capacity int64) [][2]int64 {
	set := map[int64]bool{}
	for _, w := range d.log {
		if w.seq > from && w.seq <= to {
			for b := w.start / v2oCbtBlock; b*v2oCbtBlock < w.end; b++ {
				set[b] = true
			}
		}
	}
	return v2oBlockRuns(set, capacity)
}

// --- snapshots ----------------------------------------------------------------------------------

func v2oNextDelta(dir, stem string) int {
	for n := 1; ; n++ {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("%s-%06d.vmdk", stem, n))); os.IsNotExist(err) {
			return n
		}
	}
}

// addDelta: the redo log a snapshot starts ("<disk>-00000N.vmdk", descriptor createType
// vmfsSparse with parentFileNameHint, as ESXi writes; VMware "Virtual Disk Format 1.1").
func (d *v2oCbtDisk) addDelta() error {
	base := d.layers[0]
	dir := filepath.Dir(base.data)
	baseDescName := path.Base(strings.SplitN(base.desc, "] ", 2)[1])
	stem := strings.TrimSuffix(baseDescName, ".vmdk")
	n := v2oNextDelta(dir, stem)
	descName := fmt.Sprintf("%s-%06d.vmdk", stem, n)
	dataName := fmt.Sprintf("%s-%06d-delta.vmdk", stem, n)
	parent := d.layers[len(d.layers)-1]
	parentName := path.Base(strings.SplitN(parent.desc, "] ", 2)[1])
	desc := fmt.Sprintf("# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID=%08x\nparentCID=fffffffe\n"+
		"createType=\"vmfsSparse\"\nparentFileNameHint=\"%s\"\n# Extent description\nRW %d VMFSSPARSE \"%s\"\n\n"+
		"# The Disk Data Base\n#DDB\n\nddb.longContentID = \"%s\"\n",
		n, parentName, d.capacity/512, dataName, strings.ReplaceAll(v2oNewEpoch(), " ", "")[:32])
	if err := os.WriteFile(filepath.Join(dir, descName), []byte(desc), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, dataName))
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(d.capacity); err != nil {
		return err
	}
	dsDir := strings.TrimSuffix(base.desc, baseDescName)
	d.layers = append(d.layers, &v2oLayer{desc: dsDir + descName, data: filepath.Join(dir, dataName), blocks: map[int64]bool{}})
	return nil
}

// mergeDown consolidates layers[i+1] into layers[i] (removing snapshot snaps[i]).
func (d *v2oCbtDisk) mergeDown(i int) error {
	src, dst := d.layers[i+1], d.layers[i]
	in, err := os.Open(src.data)
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst.data, os.O_WRONLY, 0)
	if err != nil {
		in.Close()
		return err
	}
	buf := make([]byte, v2oCbtBlock)
	for b := range src.blocks {
		n, err := in.ReadAt(buf, b*v2oCbtBlock)
		if err != nil && err != io.EOF {
			break
		}
		if _, err := out.WriteAt(buf[:n], b*v2oCbtBlock); err != nil {
			break
		}
		if dst.blocks != nil {
			dst.blocks[b] = true
		}
	}
	in.Close()
	if err := out.Close(); err != nil {
		return err
	}
	_ = os.Remove(src.data)
	if local := strings.TrimSuffix(src.data, "-delta.vmdk") + ".vmdk"; local != src.data {
		_ = os.Remove(local)
	}
	d.layers = append(d.layers[:i+1], d.layers[i+2:]...)
	d.snaps = append(d.snaps[:i], d.snaps[i+1:]...)
	return nil
}

// v2oFreezeSnapshot runs after upstream CreateSnapshot: the snapshot's own config gets copies of
// the disk devices with the backings it froze (and their changeId at this moment, which
// backup tools read from the snapshot: vSphere Web Services API, VirtualMachineSnapshot.config,
// VirtualDiskFlatVer2BackingInfo.changeId); the VM's disks move on to new deltas. v2oCbtMu held.
func v2oFreezeSnapshot(vm *VirtualMachine, snap *VirtualMachineSnapshot) error {
	disks := v2oCbtDisksOf(vm)
	state := map[int32]v2oSnapDisk{}
	devs := make([]types.BaseVirtualDevice, len(snap.Config.Hardware.Device))
	for i, dev := range snap.Config.Hardware.Device {
		devs[i] = dev
		disk, ok := dev.(*types.VirtualDisk)
		if !ok {
			continue
		}
		c := *disk
		if b, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok {
			nb := *b
			c.Backing = &nb
		}
		devs[i] = &c
		if d := disks[disk.Key]; d != nil {
			state[disk.Key] = v2oSnapDisk{active: d.active, epoch: d.epoch, seq: d.seq, capacity: d.capacity}
		}
	}
	snap.Config.Hardware.Device = devs
	v2oSnapState[snap.Self.Value] = state
	for _, d := range disks {
		if !d.managed {
			continue
		}
		if err := d.addDelta(); err != nil {
			return err
		}
		d.snaps = append(d.snaps, snap.Self)
		v2oSetLiveBacking(vm, d)
	}
	v2oPublishDevices(vm)
	return nil
}

// v2oRefreshSnapConfigs points each remaining snapshot's config at the layer it froze.
func v2oRefreshSnapConfigs(d *v2oCbtDisk) {
	for k, ref := range d.snaps {
		s, ok := Map.Get(ref).(*VirtualMachineSnapshot)
		if !ok {
			continue
		}
		for _, dev := range s.Config.Hardware.Device {
			if disk, ok := dev.(*types.VirtualDisk); ok && disk.Key == d.key {
				if b, ok := disk.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok {
					b.FileName = d.layers[k].desc
				}
			}
		}
	}
}

// v2oRemoveSnapshotDisks consolidates the deltas of the given snapshots (deepest first). v2oCbtMu held.
func v2oRemoveSnapshotDisks(vm *VirtualMachine, refs []types.ManagedObjectReference) error {
	for _, d := range v2oCbtDisksOf(vm) {
		if !d.managed {
			continue
		}
		for r := len(refs) - 1; r >= 0; r-- {
			for i, s := range d.snaps {
				if s == refs[r] {
					if err := d.mergeDown(i); err != nil {
						return err
					}
					break
				}
			}
		}
		v2oRefreshSnapConfigs(d)
		v2oSetLiveBacking(vm, d)
	}
	for _, r := range refs {
		delete(v2oSnapState, r.Value)
	}
	v2oPublishDevices(vm)
	return nil
}

// v2oDetachSnapshotFiles removes the snapshot's entries from vm.layout(Ex).snapshot (deleting
// its .vmsn) before upstream's removeSnapshotFiles runs: upstream deletes the file whose layout
// key the snapshot recorded, but RefreshStorageInfo drops entries of files it cannot stat and
// hands their keys to the next files added — the snapshot's delta or another disk's
// descriptor, which upstream would then delete (harmless in vcsim, whose disks hold no bytes).
func v2oDetachSnapshotFiles(vm *VirtualMachine, ref types.ManagedObjectReference) {
	for i, l := range vm.Layout.Snapshot {
		if l.Key == ref {
			vm.Layout.Snapshot = append(vm.Layout.Snapshot[:i], vm.Layout.Snapshot[i+1:]...)
			break
		}
	}
	for i, l := range vm.LayoutEx.Snapshot {
		if l.Key != ref {
			continue
		}
		for _, f := range vm.LayoutEx.File {
			if f.Key == l.DataKey && strings.HasSuffix(f.Name, ".vmsn") {
				if local, err := v2oDsLocal(vm, f.Name); err == nil {
					_ = os.Remove(local)
				}
			}
		}
		vm.LayoutEx.Snapshot = append(vm.LayoutEx.Snapshot[:i], vm.LayoutEx.Snapshot[i+1:]...)
		break
	}
}

func v2oSnapshotTree(tree []types.VirtualMachineSnapshotTree, ref types.ManagedObjectReference) *types.VirtualMachineSnapshotTree {
	for i := range tree {
		if tree[i].Snapshot == ref {
			return &tree[i]
		}
		if t := v2oSnapshotTree(tree[i].ChildSnapshotList, ref); t != nil {
			return t
		}
	}
	return nil
}

func v2oTreeRefs(t types.VirtualMachineSnapshotTree, out *[]types.ManagedObjectReference) {
	*out = append(*out, t.Snapshot)
	for _, c := range t.ChildSnapshotList {
		v2oTreeRefs(c, out)
	}
}

// CreateSnapshotTask: the fault knob (a full datastore: NoDiskSpace, a FileFault naming the
// datastore — vSphere Web Services API, fault NoDiskSpace), the stun (CBT takes effect), upstream's
// snapshot, then the frozen backings.
func (vm *VirtualMachine) CreateSnapshotTask(req *types.CreateSnapshot_Task) soap.HasFault {
	v2oCbtMu.Lock()
	fault := v2oSnapFault[vm.Self.Value]
	v2oCbtMu.Unlock()
	if fault == "NoDiskSpace" {
		dir := vm.Config.Files.VmPathName
		task := CreateTask(vm, "createSnapshot", func(*Task) (types.AnyType, types.BaseMethodFault) {
			var p object.DatastorePath
			p.FromString(dir)
			return nil, &types.NoDiskSpace{FileFault: types.FileFault{File: dir}, Datastore: p.Datastore}
		})
		return &methods.CreateSnapshot_TaskBody{Res: &types.CreateSnapshot_TaskResponse{Returnval: task.Run()}}
	}
	v2oCbtMu.Lock()
	v2oCbtStun(vm)
	v2oCbtMu.Unlock()
	res := vm.upstreamCreateSnapshotTask(req)
	body, ok := res.(*methods.CreateSnapshot_TaskBody)
	if !ok || body.Res == nil {
		return res
	}
	task, ok := Map.Get(body.Res.Returnval).(*Task)
	if !ok || task.Info.State != types.TaskInfoStateSuccess {
		return res
	}
	ref, ok := task.Info.Result.(types.ManagedObjectReference)
	if !ok {
		return res
	}
	if snap, ok := Map.Get(ref).(*VirtualMachineSnapshot); ok {
		v2oCbtMu.Lock()
		err := v2oFreezeSnapshot(vm, snap)
		v2oCbtMu.Unlock()
		if err != nil {
			vm.logPrintf("v2o: snapshot disks: %v", err)
		}
	}
	return res
}

// RemoveSnapshotTask consolidates the snapshot's delta into its parent (and its children's, with
// removeChildren), a stun like any snapshot operation (KB 1031873), then upstream's removal.
// consolidate=false is treated as true: the lab never leaves a delta behind (consolidationNeeded
// has its own hook).
func (v *VirtualMachineSnapshot) RemoveSnapshotTask(ctx *Context, req *types.RemoveSnapshot_Task) soap.HasFault {
	vm, ok := Map.Get(v.Vm).(*VirtualMachine)
	if ok {
		Map.WithLock(vm, func() {
			refs := []types.ManagedObjectReference{v.Self}
			if vm.Snapshot != nil && req.RemoveChildren {
				if t := v2oSnapshotTree(vm.Snapshot.RootSnapshotList, v.Self); t != nil {
					refs = nil
					v2oTreeRefs(*t, &refs)
				}
			}
			v2oCbtMu.Lock()
			defer v2oCbtMu.Unlock()
			if err := v2oRemoveSnapshotDisks(vm, refs); err != nil {
				vm.logPrintf("v2o: consolidating: %v", err)
			}
			for _, r := range refs {
				v2oDetachSnapshotFiles(vm, r)
			}
			v2oCbtStun(vm)
		})
	}
	return v.upstreamRemoveSnapshotTask(ctx, req)
}

func (vm *VirtualMachine) RemoveAllSnapshotsTask(ctx *Context, req *types.RemoveAllSnapshots_Task) soap.HasFault {
	if vm.Snapshot != nil {
		var refs []types.ManagedObjectReference
		for _, t := range vm.Snapshot.RootSnapshotList {
			v2oTreeRefs(t, &refs)
		}
		v2oCbtMu.Lock()
		if err := v2oRemoveSnapshotDisks(vm, refs); err != nil {
			vm.logPrintf("v2o: consolidating: %v", err)
		}
		for _, r := range refs {
			v2oDetachSnapshotFiles(vm, r)
		}
		v2oCbtStun(vm)
		v2oCbtMu.Unlock()
	}
	return vm.upstreamRemoveAllSnapshotsTask(ctx, req)
}

// --- QueryChangedDiskAreas --------------------------------------------------------------------

func v2oQueryFault(r *methods.QueryChangedDiskAreasBody, msg string, f types.BaseMethodFault) soap.HasFault {
	r.Fault_ = Fault(msg, f)
	return r
}

// QueryChangedDiskAreas as vSphere documents it (vSphere Web Services API, VirtualMachine
// QueryChangedDiskAreas, DiskChangeInfo, DiskChangeExtent): changes to disk deviceKey since
// changeId up to the snapshot's state ("*": every allocated area), from startOffset, one page per
// call. Without a snapshot only on a powered-off VM (the current state). Faults: CBT not active on
// the disk, or a changeId from another ctk (CBT reset, e.g. after Storage vMotion, or off/on) →
// FileFault "Error caused by file <disk>" (hostd's vim.hostd.vmsvc.cbt.* messages come as
// FileFault: kubernetes-sigs/vsphere-csi-driver#4114); a malformed changeId or unknown deviceKey →
// InvalidArgument naming the property (ibid.).
func (vm *VirtualMachine) QueryChangedDiskAreas(req *types.QueryChangedDiskAreas) soap.HasFault {
	r := &methods.QueryChangedDiskAreasBody{}
	v2oCbtMu.Lock()
	defer v2oCbtMu.Unlock()
	d := v2oCbtDisksOf(vm)[req.DeviceKey]
	if d == nil {
		return v2oQueryFault(r, "deviceKey", &types.InvalidArgument{InvalidProperty: "deviceKey"})
	}
	fileName := d.template.FileName
	state := v2oSnapDisk{active: d.active, epoch: d.epoch, seq: d.seq, capacity: d.capacity}
	top := len(d.layers) - 1
	if req.Snapshot == nil {
		// "using the current snapshot will only work for virtual machines that are powered off"
		if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff {
			return v2oQueryFault(r, "the current state of a powered-on virtual machine has no changed areas; pass a snapshot",
				&types.InvalidPowerState{RequestedState: types.VirtualMachinePowerStatePoweredOff, ExistingState: vm.Runtime.PowerState})
		}
	} else {
		snaps := v2oSnapState[req.Snapshot.Value]
		s, ok := Map.Get(*req.Snapshot).(*VirtualMachineSnapshot)
		if !ok || s.Vm != vm.Self || snaps == nil {
			return v2oQueryFault(r, "snapshot", &types.InvalidArgument{InvalidProperty: "snapshot"})
		}
		sd, ok := snaps[req.DeviceKey]
		if !ok {
			return v2oQueryFault(r, "deviceKey", &types.InvalidArgument{InvalidProperty: "deviceKey"})
		}
		state = sd
		top = 0
		for i, ref := range d.snaps {
			if ref == *req.Snapshot {
				top = i
			}
		}
	}
	vmfsPath := "/vmfs/volumes/" + strings.TrimPrefix(strings.Replace(fileName, "] ", "/", 1), "[")
	fileFault := func(why string) soap.HasFault {
		return v2oQueryFault(r, "Error caused by file "+vmfsPath+": "+why, &types.FileFault{File: vmfsPath})
	}
	if !state.active || (state.epoch != d.epoch) {
		return fileFault("change tracking is not active on this disk (vim.hostd.vmsvc.cbt.noTrack)")
	}
	if req.StartOffset < 0 || req.StartOffset >= state.capacity {
		return v2oQueryFault(r, "startOffset", &types.InvalidArgument{InvalidProperty: "startOffset"})
	}
	var areas [][2]int64
	if req.ChangeId == "*" {
		if !d.managed {
			areas = [][2]int64{{0, state.capacity}}
		} else {
			var err error
			if areas, err = d.allocated(top, state.capacity); err != nil {
				return fileFault(err.Error())
			}
		}
	} else {
		i := strings.LastIndex(req.ChangeId, "/")
		seq, err := strconv.ParseInt(req.ChangeId[i+1:], 10, 64)
		if i < 0 || err != nil {
			return v2oQueryFault(r, "changeId", &types.InvalidArgument{InvalidProperty: "changeId"})
		}
		if req.ChangeId[:i] != state.epoch || seq > state.seq || seq < 1 {
			return fileFault("cannot compute changes for changeId " + req.ChangeId + " (vim.hostd.vmsvc.cbt.cannotGetChanges)")
		}
		if !d.managed {
			areas = [][2]int64{{0, state.capacity}} // bytes not modelled: everything may have changed
		} else {
			areas = d.changed(seq, state.seq, state.capacity)
		}
	}
	start := req.StartOffset
	end := start + v2oCbtPageSpan
	if end > state.capacity {
		end = state.capacity
	}
	info := types.DiskChangeInfo{StartOffset: start}
	for _, a := range areas {
		s, e := a[0], a[1]
		if e <= start || s >= end {
			continue
		}
		if s < start {
			s = start
		}
		if e > end {
			e = end
		}
		info.ChangedArea = append(info.ChangedArea, types.DiskChangeExtent{Start: s, Length: e - s})
		if len(info.ChangedArea) == v2oCbtPageAreas {
			end = e
			break
		}
	}
	info.Length = end - start
	r.Res = &types.QueryChangedDiskAreasResponse{Returnval: info}
	return r
}

// --- hooks ------------------------------------------------------------------------------------

func v2oInstallCbt(mux *http.ServeMux) {
	mux.HandleFunc("/v2o-ext/disk/write", v2oHookDiskWrite)
	mux.HandleFunc("/v2o-ext/disk/cbt-reset", v2oHookCbtReset)
	mux.HandleFunc("/v2o-ext/disk/grow", v2oHookDiskGrow)
	mux.HandleFunc("/v2o-ext/disk/content", v2oHookDiskContent)
	mux.HandleFunc("/v2o-ext/disk/state", v2oHookDiskState)
	mux.HandleFunc("/v2o-ext/disk/restore", v2oHookDiskRestore)
	mux.HandleFunc("/v2o-ext/snapshot/fault", v2oHookSnapshotFault)
	mux.HandleFunc("/v2o-ext/vm/consolidation-needed", v2oHookConsolidation)
}

// V2oSetupCbt registers every VM's disks (which are flat extents) and reports the lab datastore
// as VMFS, whose thin disks answer changeId "*" with their allocated areas.
func V2oSetupCbt() {
	for _, e := range Map.All("Datastore") {
		if ds, ok := e.(*Datastore); ok {
			Map.WithLock(ds, func() { ds.Summary.Type = string(types.HostFileSystemVolumeFileSystemTypeVMFS) })
		}
	}
	v2oCbtMu.Lock()
	defer v2oCbtMu.Unlock()
	for _, e := range Map.All("VirtualMachine") {
		if vm, ok := e.(*VirtualMachine); ok {
			v2oCbtDisksOf(vm)
		}
	}
}

func v2oHookDisk(w http.ResponseWriter, vmName string, disk int) (*VirtualMachine, *v2oCbtDisk) {
	vm := v2oFindVM(vmName)
	if vm == nil {
		v2oFail(w, http.StatusNotFound, "vm not found: "+vmName)
		return nil, nil
	}
	d := v2oDiskByIndex(vm, disk)
	if d == nil {
		v2oFail(w, http.StatusNotFound, fmt.Sprintf("%s has no disk %d", vm.Name, disk))
		return nil, nil
	}
	if !d.managed {
		v2oFail(w, http.StatusConflict, fmt.Sprintf("disk %d of %s is not a flat extent: the lab models no bytes of it", disk, vm.Name))
		return nil, nil
	}
	return vm, d
}

func v2oDiskView(vm *VirtualMachine, d *v2oCbtDisk) map[string]interface{} {
	layers := []string{}
	for _, l := range d.layers {
		layers = append(layers, l.desc)
	}
	return map[string]interface{}{"vm": vm.Self.Value, "key": d.key, "capacityBytes": d.capacity,
		"changeId": d.changeID(), "layers": layers}
}

// POST /disk/write {vm, disk, writes: [{offset, length, seed}]}: the running guest writes the
// AES-256-CTR keystream (key sha256(seed), IV 0) of each length at its offset.
func v2oHookDiskWrite(w http.ResponseWriter, r *http.Request) {
	var req struct {
		VM     string `json:"vm"`
		Disk   int    `json:"disk"`
		Writes []struct {
			Offset int64  `json:"offset"`
			Length int64  `json:"length"`
			Seed   string `json:"seed"`
		} `json:"writes"`
	}
	if !v2oDecode(w, r, &req) {
		return
	}
	v2oCbtMu.Lock()
	defer v2oCbtMu.Unlock()
	vm, d := v2oHookDisk(w, req.VM, req.Disk)
	if d == nil {
		return
	}
	if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		v2oFail(w, http.StatusConflict, vm.Name+" is "+string(vm.Runtime.PowerState)+": only a running guest writes")
		return
	}
	for _, wr := range req.Writes {
		if wr.Offset < 0 || wr.Length <= 0 || wr.Offset+wr.Length > d.capacity {
			v2oFail(w, http.StatusBadRequest, fmt.Sprintf("write [%d, +%d) is outside the disk (%d bytes)", wr.Offset, wr.Length, d.capacity))
			return
		}
	}
	for _, wr := range req.Writes {
		key := sha256.Sum256([]byte(wr.Seed))
		block, _ := aes.NewCipher(key[:])
		ctr := cipher.NewCTR(block, make([]byte, 16))
		buf := make([]byte, 4<<20)
		for done := int64(0); done < wr.Length; {
			n := wr.Length - done
			if n > int64(len(buf)) {
				n = int64(len(buf))
			}
			chunk := buf[:n]
			for i := range chunk {
				chunk[i] = 0
			}
			ctr.XORKeyStream(chunk, chunk)
			if err := d.writeAt(chunk, wr.Offset+done, false); err != nil {
				v2oFail(w, http.StatusInternalServerError, err.Error())
				return
			}
			done += n
		}
		d.track(wr.Offset, wr.Offset+wr.Length)
	}
	v2oSetLiveBacking(vm, d)
	v2oJSON(w, http.StatusOK, v2oDiskView(vm, d))
}

// POST /disk/cbt-reset {vm}: a new ctk on every disk, as after Storage vMotion (VMware KB 2136854:
// CBT is reset by Storage vMotion; older changeIds are then refused).
func v2oHookCbtReset(w http.ResponseWriter, r *http.Request) {
	var req struct {
		VM string `json:"vm"`
	}
	if !v2oDecode(w, r, &req) {
		return
	}
	vm := v2oFindVM(req.VM)
	if vm == nil {
		v2oFail(w, http.StatusNotFound, "vm not found: "+req.VM)
		return
	}
	v2oCbtMu.Lock()
	defer v2oCbtMu.Unlock()
	out := []map[string]interface{}{}
	for _, d := range v2oCbtDisksOf(vm) {
		if d.active {
			d.epoch, d.seq, d.log = v2oNewEpoch(), 1, nil
			v2oSetLiveBacking(vm, d)
		}
		out = append(out, v2oDiskView(vm, d))
	}
	v2oJSON(w, http.StatusOK, map[string]interface{}{"disks": out})
}

// POST /disk/grow {vm, disk, capacityBytes}: what a ReconfigVM disk extend does — the flat
// extent and the descriptor's extent line grow, and the device's capacity. vSphere refuses to
// extend a disk that has snapshots (VMware KB 1004047 "Increasing the size of a virtual disk"): 409.
func v2oHookDiskGrow(w http.ResponseWriter, r *http.Request) {
	var req struct {
		VM            string `json:"vm"`
		Disk          int    `json:"disk"`
		CapacityBytes int64  `json:"capacityBytes"`
	}
	if !v2oDecode(w, r, &req) {
		return
	}
	v2oCbtMu.Lock()
	defer v2oCbtMu.Unlock()
	vm, d := v2oHookDisk(w, req.VM, req.Disk)
	if d == nil {
		return
	}
	if len(d.layers) > 1 {
		v2oFail(w, http.StatusConflict, "the disk has snapshots: vSphere does not extend it")
		return
	}
	if req.CapacityBytes <= d.capacity || req.CapacityBytes%512 != 0 {
		v2oFail(w, http.StatusBadRequest, fmt.Sprintf("capacityBytes must be a multiple of 512 above %d", d.capacity))
		return
	}
	if err := os.Truncate(d.layers[0].data, req.CapacityBytes); err != nil {
		v2oFail(w, http.StatusInternalServerError, err.Error())
		return
	}
	if local, err := v2oDsLocal(vm, d.layers[0].desc); err == nil {
		if b, err := os.ReadFile(local); err == nil {
			re := regexp.MustCompile(`(?m)^RW\s+\d+\s+`)
			b = re.ReplaceAll(b, []byte(fmt.Sprintf("RW %d ", req.CapacityBytes/512)))
			_ = os.WriteFile(local, b, 0o644)
		}
	}
	d.capacity = req.CapacityBytes
	v2oSetLiveBacking(vm, d)
	v2oPublishDevices(vm)
	v2oJSON(w, http.StatusOK, v2oDiskView(vm, d))
}

// GET /disk/content?vm=&disk= → {sha256, sizeBytes}: the disk as the guest sees it now (through the deltas).
func v2oHookDiskContent(w http.ResponseWriter, r *http.Request) {
	disk, _ := strconv.Atoi(r.URL.Query().Get("disk"))
	v2oCbtMu.Lock()
	defer v2oCbtMu.Unlock()
	vm, d := v2oHookDisk(w, r.URL.Query().Get("vm"), disk)
	if d == nil {
		return
	}
	h := sha256.New()
	buf := make([]byte, 4<<20)
	top := len(d.layers) - 1
	for off := int64(0); off < d.capacity; {
		n := d.capacity - off
		if n > int64(len(buf)) {
			n = int64(len(buf))
		}
		if top == 0 {
			// one file: read it straight
			f, err := os.Open(d.layers[0].data)
			if err != nil {
				v2oFail(w, http.StatusInternalServerError, err.Error())
				return
			}
			got, err := f.ReadAt(buf[:n], off)
			f.Close()
			if err != nil && err != io.EOF {
				v2oFail(w, http.StatusInternalServerError, err.Error())
				return
			}
			for i := got; i < int(n); i++ {
				buf[i] = 0
			}
		} else if err := d.readAt(buf[:n], off, top); err != nil {
			v2oFail(w, http.StatusInternalServerError, err.Error())
			return
		}
		h.Write(buf[:n])
		off += n
	}
	out := v2oDiskView(vm, d)
	out["sha256"], out["sizeBytes"] = hex.EncodeToString(h.Sum(nil)), d.capacity
	v2oJSON(w, http.StatusOK, out)
}

// GET /disk/state?vm=&disk=: layers, changeId and capacity, without hashing.
func v2oHookDiskState(w http.ResponseWriter, r *http.Request) {
	disk, _ := strconv.Atoi(r.URL.Query().Get("disk"))
	v2oCbtMu.Lock()
	defer v2oCbtMu.Unlock()
	vm, d := v2oHookDisk(w, r.URL.Query().Get("vm"), disk)
	if d == nil {
		return
	}
	v2oJSON(w, http.StatusOK, v2oDiskView(vm, d))
}

// POST /snapshot/fault {vm, fault: "NoDiskSpace" | null}
func v2oHookSnapshotFault(w http.ResponseWriter, r *http.Request) {
	var req struct {
		VM    string  `json:"vm"`
		Fault *string `json:"fault"`
	}
	if !v2oDecode(w, r, &req) {
		return
	}
	vm := v2oFindVM(req.VM)
	if vm == nil {
		v2oFail(w, http.StatusNotFound, "vm not found: "+req.VM)
		return
	}
	v2oCbtMu.Lock()
	defer v2oCbtMu.Unlock()
	switch {
	case req.Fault == nil || *req.Fault == "":
		delete(v2oSnapFault, vm.Self.Value)
	case *req.Fault == "NoDiskSpace":
		v2oSnapFault[vm.Self.Value] = *req.Fault
	default:
		v2oFail(w, http.StatusBadRequest, "fault must be \"NoDiskSpace\" or null")
		return
	}
	v2oJSON(w, http.StatusOK, map[string]interface{}{"vm": vm.Self.Value, "fault": req.Fault})
}

// POST /vm/consolidation-needed {vm, value}: runtime.consolidationNeeded (vSphere Web Services
// API, VirtualMachineRuntimeInfo: set when a snapshot removal left delta disks behind).
func v2oHookConsolidation(w http.ResponseWriter, r *http.Request) {
	var req struct {
		VM    string `json:"vm"`
		Value bool   `json:"value"`
	}
	if !v2oDecode(w, r, &req) {
		return
	}
	vm := v2oFindVM(req.VM)
	if vm == nil {
		v2oFail(w, http.StatusNotFound, "vm not found: "+req.VM)
		return
	}
	Map.WithLock(vm, func() {
		v := req.Value
		vm.Runtime.ConsolidationNeeded = &v // read by RetrieveProperties (Map.Update cannot assign a *bool)
	})
	v2oJSON(w, http.StatusOK, map[string]interface{}{"vm": vm.Self.Value, "consolidationNeeded": req.Value})
}

// POST /disk/restore {vm}: the VM's flat disks as seeded (make-disks' files copied sparse over the
// datastore's, capacity as built) with the guest state written again, and a new ctk on each
// (a lab reset, not a guest write: no changeId spans it). Refused while the VM has snapshots.
func v2oHookDiskRestore(w http.ResponseWriter, r *http.Request) {
	var req struct {
		VM string `json:"vm"`
	}
	if !v2oDecode(w, r, &req) {
		return
	}
	vm := v2oFindVM(req.VM)
	if vm == nil {
		v2oFail(w, http.StatusNotFound, "vm not found: "+req.VM)
		return
	}
	v2oCbtMu.Lock()
	out := []map[string]interface{}{}
	for _, d := range v2oCbtDisksOf(vm) {
		if !d.managed {
			continue
		}
		if len(d.layers) > 1 {
			v2oCbtMu.Unlock()
			v2oFail(w, http.StatusConflict, vm.Name+" has snapshots: remove them first")
			return
		}
		for _, local := range []string{d.layers[0].data, strings.TrimSuffix(d.layers[0].data, "-flat.vmdk") + ".vmdk"} {
			rel, err := filepath.Rel(v2oDatastoreDir, local)
			if err != nil || strings.HasPrefix(rel, "..") {
				continue
			}
			if b, err := exec.Command("cp", "--sparse=always", filepath.Join(v2oDisksDir, "ds", rel), local).CombinedOutput(); err != nil {
				v2oCbtMu.Unlock()
				v2oFail(w, http.StatusInternalServerError, fmt.Sprintf("restore %s: %v: %s", rel, err, b))
				return
			}
		}
		if st, err := os.Stat(d.layers[0].data); err == nil {
			d.capacity = st.Size()
		}
		if d.active {
			d.epoch, d.seq, d.log = v2oNewEpoch(), 1, nil
		}
		v2oSetLiveBacking(vm, d)
		out = append(out, v2oDiskView(vm, d))
	}
	v2oPublishDevices(vm)
	v2oCbtMu.Unlock()
	// the restored boot disk holds the seeded state: write the guest's current one again
	v2oDisksMu.Lock()
	if sd := v2oStateDisks[vm.Self.Value]; sd != nil {
		sd.last = nil
	}
	v2oDisksMu.Unlock()
	if err := V2oFlushGuestState(vm); err != nil {
		v2oFail(w, http.StatusInternalServerError, err.Error())
		return
	}
	v2oJSON(w, http.StatusOK, map[string]interface{}{"disks": out})
}
