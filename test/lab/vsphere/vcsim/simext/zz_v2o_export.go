// v2o lab add-on compiled INTO package simulator with `go build -overlay` (test-only, not
// upstream; grown from ../shared/recipes/vcsim/zz_export_vm.go). vcsim 0.24 has no
// VirtualMachine.ExportVm and its own /nfc/ GET handler panics, so this adds ExportVm with
// its own lease type: state ready → done (Complete) or error (Abort, or no progress within
// info.leaseTimeout seconds), info/state/transferProgress readable through the
// PropertyCollector, and disk URLs (https://*/nfc/v2o/<lease>/<file>, host "*" as with real
// vCenter) that serve GET/HEAD with Range and Content-Length until the lease ends.
// Like vCenter, a lease streams every disk as streamOptimized VMDK: V2oExportSource maps a
// disk file on the datastore to that stream (built by make-disks.mjs); disks not in the map
// (created by a test) are served as stored.
package simulator

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// V2oNFCPrefix is the URL path prefix of the ExportVm lease device URLs.
const V2oNFCPrefix = "/nfc/v2o/"

// V2oLeaseInitDelay is how long a new lease stays "initializing".
var V2oLeaseInitDelay = 200 * time.Millisecond

// V2oLeaseTimeout is the lease's info.leaseTimeout in seconds (vCenter's default is 300).
var V2oLeaseTimeout int32 = 300

var (
	v2oExportMu     sync.Mutex
	v2oExportSource = map[string]string{}
	v2oLeases       sync.Map // lease moref value -> *V2oExportLease
)

// V2oSetExportSource makes leases stream exportFile for the datastore file at localPath.
func V2oSetExportSource(localPath, exportFile string) {
	v2oExportMu.Lock()
	defer v2oExportMu.Unlock()
	v2oExportSource[localPath] = exportFile
}

func v2oExportFile(localPath string) string {
	v2oExportMu.Lock()
	defer v2oExportMu.Unlock()
	if f, ok := v2oExportSource[localPath]; ok {
		return f
	}
	return localPath
}

// V2oExportLease is the HttpNfcLease ExportVm returns.
type V2oExportLease struct {
	mo.HttpNfcLease
	mu           sync.Mutex
	files        map[string]string // URL file name -> local file served
	lastProgress time.Time
	// release counts the lease off its host's export-lease counter (zz_v2o_leasestats.go)
	release func()
}

func (l *V2oExportLease) setState(state types.HttpNfcLeaseState, fault *types.LocalizedMethodFault) {
	changes := []types.PropertyChange{{Name: "state", Val: state}}
	if fault != nil {
		changes = append(changes, types.PropertyChange{Name: "error", Val: fault})
	}
	Map.Update(l, changes)
	if state != types.HttpNfcLeaseStateReady {
		v2oLeases.Delete(l.Self.Value)
		if l.release != nil {
			l.release() // done, aborted or timed out: the lease no longer holds its host
		}
	}
}

func (vm *VirtualMachine) ExportVm(ctx *Context, req *types.ExportVm) soap.HasFault {
	body := new(methods.ExportVmBody)

	if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff {
		body.Fault_ = Fault("", &types.InvalidPowerState{
			RequestedState: types.VirtualMachinePowerStatePoweredOff,
			ExistingState:  vm.Runtime.PowerState,
		})
		return body
	}

	// held from now until done/abort/timeout, on the host the VM runs on
	lease := &V2oExportLease{files: make(map[string]string), lastProgress: time.Now(),
		release: v2oLeaseHolds.hold(v2oHostName(vm))}
	lease.Info = &types.HttpNfcLeaseInfo{Entity: vm.Self, LeaseTimeout: V2oLeaseTimeout}
	lease.State = types.HttpNfcLeaseStateInitializing
	lease.Mode = string(types.HttpNfcLeaseModePull)
	lease.Self.Type = "HttpNfcLease" // else the registry names it after the Go type
	ctx.Session.Put(lease)
	ref := lease.Self
	lease.Info.Lease = ref

	device := object.VirtualDeviceList(vm.Config.Hardware.Device)
	for _, d := range device {
		disk, ok := d.(*types.VirtualDisk)
		if !ok {
			continue
		}
		info, ok := disk.Backing.(types.BaseVirtualDeviceFileBackingInfo)
		if !ok {
			continue
		}
		var file object.DatastorePath
		file.FromString(info.GetVirtualDeviceFileBackingInfo().FileName)
		ds := vm.findDatastore(file.Datastore)
		if ds == nil {
			continue
		}
		local := path.Join(ds.Info.GetDatastoreInfo().Url, file.Path)
		src := v2oExportFile(local)
		// vCenter names the streams disk-0.vmdk, disk-1.vmdk, ... in device order.
		name := fmt.Sprintf("disk-%d.vmdk", len(lease.Info.DeviceUrl))
		lease.files[name] = src

		var size int64
		if st, err := os.Stat(src); err == nil {
			size = st.Size()
		}
		lease.Info.TotalDiskCapacityInKB += disk.CapacityInKB

		// vCenter style key: /<vm moref>/<ControllerType><bus>:<unit>
		key := fmt.Sprintf("/%s/VirtualDisk%d", vm.Self.Value, disk.Key)
		if c, ok := device.FindByKey(disk.ControllerKey).(types.BaseVirtualController); ok && disk.UnitNumber != nil {
			key = fmt.Sprintf("/%s/%s%d:%d", vm.Self.Value,
				strings.TrimPrefix(fmt.Sprintf("%T", c), "*types."),
				c.GetVirtualController().BusNumber, *disk.UnitNumber)
		}

		lease.Info.DeviceUrl = append(lease.Info.DeviceUrl, types.HttpNfcLeaseDeviceUrl{
			Key:       key,
			ImportKey: key,
			Url: (&url.URL{
				Scheme: "https",
				Host:   "*",
				Path:   V2oNFCPrefix + ref.Value + "/" + name,
			}).String(),
			Disk:         types.NewBool(true),
			TargetId:     name,
			DatastoreKey: ds.Self.Value,
			FileSize:     size,
		})
	}
	// Like vCenter the lease starts "initializing" and turns "ready" a moment later (clients
	// must wait for it: WaitForUpdatesEx sees the change).
	go func() {
		time.Sleep(V2oLeaseInitDelay)
		Map.WithLock(lease, func() {
			if lease.State != types.HttpNfcLeaseStateInitializing {
				return
			}
			lease.mu.Lock()
			lease.lastProgress = time.Now()
			lease.mu.Unlock()
			v2oLeases.Store(ref.Value, lease)
			Map.Update(lease, []types.PropertyChange{{Name: "state", Val: types.HttpNfcLeaseStateReady}})
		})
	}()

	body.Res = &types.ExportVmResponse{Returnval: ref}
	return body
}

func (l *V2oExportLease) HttpNfcLeaseProgress(ctx *Context, req *types.HttpNfcLeaseProgress) soap.HasFault {
	body := new(methods.HttpNfcLeaseProgressBody)
	if l.State != types.HttpNfcLeaseStateReady {
		body.Fault_ = Fault("lease is "+string(l.State), &types.InvalidState{})
		return body
	}
	l.mu.Lock()
	l.lastProgress = time.Now()
	l.mu.Unlock()
	Map.Update(l, []types.PropertyChange{{Name: "transferProgress", Val: req.Percent}})
	body.Res = new(types.HttpNfcLeaseProgressResponse)
	return body
}

func (l *V2oExportLease) HttpNfcLeaseComplete(ctx *Context, req *types.HttpNfcLeaseComplete) soap.HasFault {
	body := new(methods.HttpNfcLeaseCompleteBody)
	if l.State != types.HttpNfcLeaseStateReady {
		body.Fault_ = Fault("lease is "+string(l.State), &types.InvalidState{})
		return body
	}
	Map.Update(l, []types.PropertyChange{{Name: "transferProgress", Val: int32(100)}})
	l.setState(types.HttpNfcLeaseStateDone, nil)
	body.Res = new(types.HttpNfcLeaseCompleteResponse)
	return body
}

func (l *V2oExportLease) HttpNfcLeaseAbort(ctx *Context, req *types.HttpNfcLeaseAbort) soap.HasFault {
	body := new(methods.HttpNfcLeaseAbortBody)
	if l.State == types.HttpNfcLeaseStateDone {
		body.Fault_ = Fault("lease is done", &types.InvalidState{})
		return body
	}
	fault := req.Fault
	if fault == nil {
		fault = &types.LocalizedMethodFault{Fault: &types.RequestCanceled{}, LocalizedMessage: "Operation was canceled"}
	}
	l.setState(types.HttpNfcLeaseStateError, fault)
	body.Res = new(types.HttpNfcLeaseAbortResponse)
	return body
}

func (l *V2oExportLease) HttpNfcLeaseGetManifest(ctx *Context, req *types.HttpNfcLeaseGetManifest) soap.HasFault {
	return &methods.HttpNfcLeaseGetManifestBody{Res: &types.HttpNfcLeaseGetManifestResponse{}}
}

// v2oExpireLeases ends leases without progress for longer than their timeout, as vCenter does.
func v2oExpireLeases() {
	for range time.Tick(time.Second) {
		v2oLeases.Range(func(_, v interface{}) bool {
			l := v.(*V2oExportLease)
			l.mu.Lock()
			idle := time.Since(l.lastProgress)
			l.mu.Unlock()
			if idle > time.Duration(l.Info.LeaseTimeout)*time.Second {
				l.setState(types.HttpNfcLeaseStateError, &types.LocalizedMethodFault{
					Fault:            &types.Timedout{},
					LocalizedMessage: "lease timed out: no HttpNfcLeaseProgress within leaseTimeout",
				})
			}
			return true
		})
	}
}

// V2oServeNFC serves GET/HEAD (with Range) of one disk stream of a ready ExportVm lease.
func V2oServeNFC(w http.ResponseWriter, r *http.Request) {
	p := strings.Split(strings.TrimPrefix(r.URL.Path, V2oNFCPrefix), "/")
	if len(p) != 2 {
		http.NotFound(w, r)
		return
	}
	v, ok := v2oLeases.Load(p[0])
	if !ok {
		http.Error(w, "no such lease, or the lease is complete, aborted or timed out", http.StatusNotFound)
		return
	}
	l := v.(*V2oExportLease)
	file, ok := l.files[p[1]]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f, err := os.Open(file)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-vnd.vmware-streamVmdk")
	http.ServeContent(w, r, p[1], st.ModTime(), f)
}
