// v2o lab add-on compiled INTO package simulator (test-only): counters of what reads a source ESXi
// host at once, written by the simulator itself, so a test can check that the code under test
// kept its per-host limits without trusting that code's own accounting (issue 15: a fleet of
// workers shares the plan's limits).
//
//   - export leases: an ExportVm lease (zz_v2o_export.go) holds its VM's host from its creation
//     until it ends: HttpNfcLeaseComplete (done), HttpNfcLeaseAbort or the lease timeout (error).
//     The host is the VM's runtime.host when the lease is made.
//   - datastore reads: a GET of a VM's disk file (descriptor or extent) over /folder/… holds the
//     disk's VM's host while the response is being written (warm migration reads flat extents
//     this way, without a lease).
//
// GET /v2o-ext/leases/stats →
//
//	{ "hosts": { "<host>": { "current": n, "max": m } }, "total": { "current", "max" },
//	  "datastoreReads": { "hosts": { … }, "total": { … } } }
//
// every host of the inventory listed (0/0 when unused); max is the highest current since the
// start or the last reset. POST /v2o-ext/leases/stats/reset sets every max to its current (what is
// still held stays counted) and answers the stats.
package simulator

import (
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

type v2oHoldCount struct {
	Current int `json:"current"`
	Max     int `json:"max"`
}

type v2oHoldCounter struct {
	hosts map[string]*v2oHoldCount
	total v2oHoldCount
}

var (
	v2oStatsMu     sync.Mutex
	v2oLeaseHolds  = &v2oHoldCounter{hosts: map[string]*v2oHoldCount{}}
	v2oDsReadHolds = &v2oHoldCounter{hosts: map[string]*v2oHoldCount{}}
)

// v2oHold counts one hold on host and returns its release, which counts it off once, however
// often it is called (a lease can end by Complete, Abort and timeout racing).
func (c *v2oHoldCounter) hold(host string) func() {
	v2oStatsMu.Lock()
	h := c.hosts[host]
	if h == nil {
		h = &v2oHoldCount{}
		c.hosts[host] = h
	}
	for _, n := range []*v2oHoldCount{h, &c.total} {
		n.Current++
		if n.Current > n.Max {
			n.Max = n.Current
		}
	}
	v2oStatsMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			v2oStatsMu.Lock()
			h.Current--
			c.total.Current--
			v2oStatsMu.Unlock()
		})
	}
}

type v2oHoldView struct {
	Hosts map[string]v2oHoldCount `json:"hosts"`
	Total v2oHoldCount            `json:"total"`
}

// view must be called with v2oStatsMu held; hosts lists every host name known to the inventory.
func (c *v2oHoldCounter) view(hosts []string) v2oHoldView {
	v := v2oHoldView{Hosts: map[string]v2oHoldCount{}, Total: c.total}
	for _, h := range hosts {
		v.Hosts[h] = v2oHoldCount{}
	}
	for h, n := range c.hosts {
		v.Hosts[h] = *n
	}
	return v
}

func (c *v2oHoldCounter) reset() {
	for _, n := range c.hosts {
		n.Max = n.Current
	}
	c.total.Max = c.total.Current
}

// v2oHostName is the name of the VM's host (runtime.host), "" when it has none.
func v2oHostName(vm *VirtualMachine) string {
	if vm.Runtime.Host == nil {
		return ""
	}
	if h, ok := Map.Get(*vm.Runtime.Host).(*HostSystem); ok {
		return h.Name
	}
	return vm.Runtime.Host.Value
}

// v2oDiskOwnerHost finds the VM one of whose disks the datastore file "[ds] dir/name.vmdk" is (its
// descriptor, or the -flat/-delta/-sesparse extent beside it, snapshot parents included) and
// returns its host.
func v2oDiskOwnerHost(ds, file string) (string, bool) {
	want := strings.TrimSuffix(path.Clean(file), ".vmdk")
	for _, suffix := range []string{"-flat", "-delta", "-sesparse"} {
		want = strings.TrimSuffix(want, suffix)
	}
	for _, e := range Map.All("VirtualMachine") {
		vm, ok := e.(*VirtualMachine)
		if !ok || vm.Config == nil {
			continue
		}
		for _, d := range object.VirtualDeviceList(vm.Config.Hardware.Device).SelectByType((*types.VirtualDisk)(nil)) {
			b, ok := d.(*types.VirtualDisk).Backing.(*types.VirtualDiskFlatVer2BackingInfo)
			for ok && b != nil {
				var p object.DatastorePath
				if p.FromString(b.FileName) && p.Datastore == ds && strings.TrimSuffix(path.Clean(p.Path), ".vmdk") == want {
					return v2oHostName(vm), true
				}
				b = b.Parent
			}
		}
	}
	return "", false
}

// v2oCountDatastoreRead wraps a /folder/ GET of a VM's disk file in a hold on the VM's host.
func v2oCountDatastoreRead(r *http.Request) func() {
	if r.Method != http.MethodGet || !strings.HasSuffix(strings.ToLower(r.URL.Path), ".vmdk") {
		return func() {}
	}
	host, ok := v2oDiskOwnerHost(r.URL.Query().Get("dsName"), strings.TrimPrefix(r.URL.Path, folderPrefix))
	if !ok {
		return func() {}
	}
	return v2oDsReadHolds.hold(host)
}

func v2oHookLeaseStats(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		v2oFail(w, http.StatusMethodNotAllowed, "GET the stats, POST …/reset")
		return
	}
	v2oJSON(w, http.StatusOK, v2oLeaseStats())
}

func v2oHookLeaseStatsReset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		v2oFail(w, http.StatusMethodNotAllowed, "POST to reset")
		return
	}
	v2oStatsMu.Lock()
	v2oLeaseHolds.reset()
	v2oDsReadHolds.reset()
	v2oStatsMu.Unlock()
	v2oJSON(w, http.StatusOK, v2oLeaseStats())
}

func v2oLeaseStats() map[string]interface{} {
	var hosts []string
	for _, e := range Map.All("HostSystem") {
		if h, ok := e.(*HostSystem); ok {
			hosts = append(hosts, h.Name)
		}
	}
	v2oStatsMu.Lock()
	defer v2oStatsMu.Unlock()
	leases := v2oLeaseHolds.view(hosts)
	return map[string]interface{}{
		"hosts":          leases.Hosts,
		"total":          leases.Total,
		"datastoreReads": v2oDsReadHolds.view(hosts),
	}
}
