// Seeds the lab inventory through the simulator's own SOAP API (the same calls a client makes),
// after copying the prebuilt VMDK files onto the datastore.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

type invDisk struct {
	File    string `json:"file"`
	Format  string `json:"format"`
	SizeMiB int64  `json:"sizeMiB"`
}

type invNIC struct {
	Type    string `json:"type"`
	Network string `json:"network"`
	MAC     string `json:"mac"`
}

type invVM struct {
	Name           string `json:"name"`
	Folder         string `json:"folder"`
	GuestID        string `json:"guestId"`
	GuestFullName  string `json:"guestFullName"`
	WindowsVersion string `json:"windowsVersion"`
	VirtioOS       string `json:"virtioOs"`
	Locale         string `json:"locale"`
	Firmware       string `json:"firmware"`
	SecureBoot     bool   `json:"secureBoot"`
	CPUs           int32  `json:"cpus"`
	MemoryMB       int64  `json:"memoryMB"`
	Controller     string `json:"controller"`
	Power          string `json:"power"`
	Tools          string `json:"tools"`
	HostName       string `json:"hostName"`
	IPAddress      string `json:"ipAddress"`
	Snapshot       string `json:"snapshot"`
	// Host: index of the cluster host the VM runs on (absent: the VMs take turns by their index)
	Host  *int      `json:"host"`
	Disks []invDisk `json:"disks"`
	NICs  []invNIC  `json:"nics"`
	// Guest: the Windows guest's network identity, disks … (simext/zz_v2o_guest_model.go);
	// absent = the default for the VM's NICs and disks. Registry: extra registry values.
	Guest    *simulator.V2oGuestModel `json:"guest"`
	Registry map[string]interface{}   `json:"registry"`
}

type inventory struct {
	Datacenter    string   `json:"datacenter"`
	Datastore     string   `json:"datastore"`
	Cluster       string   `json:"cluster"`
	PortGroups    []string `json:"portGroups"`
	GuestUsername string   `json:"guestUsername"`
	GuestPassword string   `json:"guestPassword"`
	VMs           []invVM  `json:"vms"`
}

type seededVM struct {
	Name   string `json:"name"`
	Moref  string `json:"moref"`
	VmxDir string `json:"vmxDir"`
}

type seeded struct {
	DatastoreDir string     `json:"datastoreDir"`
	VMs          []seededVM `json:"vms"`
}

func loadInventory(p string) (*inventory, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	inv := new(inventory)
	if err := json.Unmarshal(b, inv); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return inv, nil
}

func readLines(p string) ([]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

func writeJSON(p string, v interface{}) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

func seed(ctx context.Context, sdkURL, user, pass, caFile string, inv *inventory, disksDir string) (*seeded, error) {
	u, err := soap.ParseURL(sdkURL)
	if err != nil {
		return nil, err
	}
	u.User = url.UserPassword(user, pass)
	sc := soap.NewClient(u, false)
	if err := sc.SetRootCAs(caFile); err != nil {
		return nil, err
	}
	vc, err := vim25.NewClient(ctx, sc)
	if err != nil {
		return nil, err
	}
	sm := session.NewManager(vc)
	if err := sm.Login(ctx, u.User); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	defer func() { _ = sm.Logout(context.Background()) }()

	finder := find.NewFinder(vc)
	dc, err := finder.Datacenter(ctx, inv.Datacenter)
	if err != nil {
		return nil, err
	}
	finder.SetDatacenter(dc)
	folders, err := dc.Folders(ctx)
	if err != nil {
		return nil, err
	}
	pool, err := finder.ResourcePool(ctx, inv.Cluster+"/Resources")
	if err != nil {
		return nil, err
	}
	ds, err := finder.Datastore(ctx, inv.Datastore)
	if err != nil {
		return nil, err
	}
	var mds mo.Datastore
	if err := ds.Properties(ctx, ds.Reference(), []string{"info"}, &mds); err != nil {
		return nil, err
	}
	dsDir := mds.Info.GetDatastoreInfo().Url

	// Copy the prebuilt disks (sparse) onto the datastore; main then points the export leases at
	// the streamOptimized streams and writes the guests' state into them (V2oSetupDisks).
	if out, err := exec.Command("cp", "-a", "--sparse=always", filepath.Join(disksDir, "ds")+"/.", dsDir+"/").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("copy disks: %v: %s", err, out)
	}

	// Standard port groups besides "VM Network" (first host's vSwitch0; one network object).
	cluster, err := finder.ClusterComputeResource(ctx, inv.Cluster)
	if err != nil {
		return nil, err
	}
	hosts, err := cluster.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	for i, pg := range inv.PortGroups {
		ns, err := hosts[0].ConfigManager().NetworkSystem(ctx)
		if err != nil {
			return nil, err
		}
		if err := ns.AddPortGroup(ctx, types.HostPortGroupSpec{Name: pg, VlanId: int32(20 + i), VswitchName: "vSwitch0", Policy: types.HostNetworkPolicy{}}); err != nil {
			return nil, fmt.Errorf("port group %s: %w", pg, err)
		}
	}

	out := &seeded{DatastoreDir: dsDir}
	for i, v := range inv.VMs {
		spec := vmSpec(inv, v)
		host := hosts[i%len(hosts)]
		if v.Host != nil {
			if *v.Host < 0 || *v.Host >= len(hosts) {
				return nil, fmt.Errorf("%s: host %d, but the cluster has %d hosts", v.Name, *v.Host, len(hosts))
			}
			host = hosts[*v.Host]
		}
		task, err := folders.VmFolder.CreateVM(ctx, spec, pool, host)
		if err != nil {
			return nil, err
		}
		res, err := task.WaitForResult(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", v.Name, err)
		}
		ref := res.Result.(types.ManagedObjectReference)
		vm := object.NewVirtualMachine(vc, ref)

		power := v.Power
		if power == "" {
			power = string(types.VirtualMachinePowerStatePoweredOn)
		}
		simulator.V2oSetGuestSeed(ref, simulator.V2oGuestSeed{
			Username: inv.GuestUsername, Password: inv.GuestPassword, OS: v.VirtioOS,
			WindowsVersion: v.WindowsVersion, ProductName: strings.TrimSuffix(strings.TrimPrefix(v.GuestFullName, "Microsoft "), " (64-bit)"),
			HostName: v.HostName, Controller: v.Controller, Tools: v.Tools, GuestID: v.GuestID,
			GuestFullName: v.GuestFullName, IPAddress: v.IPAddress, PowerState: power, Locale: v.Locale,
			Model: v.Guest, Registry: v.Registry,
		})
		if v.Snapshot != "" {
			t, err := vm.CreateSnapshot(ctx, v.Snapshot, "v2o lab: a VM with a snapshot", false, false)
			if err != nil {
				return nil, err
			}
			if err := t.Wait(ctx); err != nil {
				return nil, fmt.Errorf("snapshot %s: %w", v.Name, err)
			}
		}
		if power == string(types.VirtualMachinePowerStatePoweredOn) {
			t, err := vm.PowerOn(ctx)
			if err != nil {
				return nil, err
			}
			if err := t.Wait(ctx); err != nil {
				return nil, fmt.Errorf("power on %s: %w", v.Name, err)
			}
		} else if sim, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine); ok {
			simulator.V2oSetTools(sim, map[bool]string{true: "notInstalled", false: "notRunning"}[v.Tools == "notInstalled"])
		}
		out.VMs = append(out.VMs, seededVM{Name: v.Name, Moref: ref.Value, VmxDir: v.Folder})
	}
	return out, nil
}

func vmSpec(inv *inventory, v invVM) types.VirtualMachineConfigSpec {
	dsPath := func(f string) string { return fmt.Sprintf("[%s] %s/%s", inv.Datastore, v.Folder, f) }
	spec := types.VirtualMachineConfigSpec{
		Name:       v.Name,
		GuestId:    v.GuestID,
		NumCPUs:    v.CPUs,
		MemoryMB:   v.MemoryMB,
		Firmware:   v.Firmware,
		Annotation: "v2o lab VM",
		Version:    "vmx-19",
		Files:      &types.VirtualMachineFileInfo{VmPathName: dsPath(v.Name + ".vmx")},
	}
	if v.Firmware == "efi" {
		spec.BootOptions = &types.VirtualMachineBootOptions{EfiSecureBootEnabled: types.NewBool(v.SecureBoot)}
	}
	add := func(d types.BaseVirtualDevice) {
		spec.DeviceChange = append(spec.DeviceChange, &types.VirtualDeviceConfigSpec{
			Operation: types.VirtualDeviceConfigSpecOperationAdd, Device: d,
		})
	}
	info := func(label, summary string) *types.Description {
		return &types.Description{Label: label, Summary: summary}
	}
	unit := func(n int32) *int32 { return &n }

	// Controller keys as vSphere numbers them: SCSI 1000+, SATA 15000+.
	var ctrlKey int32 = 1000
	scsi := types.VirtualSCSIController{
		SharedBus:         types.VirtualSCSISharingNoSharing,
		VirtualController: types.VirtualController{BusNumber: 0, VirtualDevice: types.VirtualDevice{Key: 1000, ControllerKey: 100, UnitNumber: unit(3)}},
	}
	switch v.Controller {
	case "pvscsi":
		scsi.DeviceInfo = info("SCSI controller 0", "VMware paravirtual SCSI")
		add(&types.ParaVirtualSCSIController{VirtualSCSIController: scsi})
	case "sata":
		ctrlKey = 15000
		add(&types.VirtualAHCIController{VirtualSATAController: types.VirtualSATAController{
			VirtualController: types.VirtualController{BusNumber: 0, VirtualDevice: types.VirtualDevice{
				Key: 15000, ControllerKey: 100, UnitNumber: unit(24), DeviceInfo: info("SATA controller 0", "AHCI"),
			}},
		}})
	default:
		scsi.DeviceInfo = info("SCSI controller 0", "LSI Logic SAS")
		add(&types.VirtualLsiLogicSASController{VirtualSCSIController: scsi})
	}
	u := int32(0)
	for i, d := range v.Disks {
		if ctrlKey == 1000 && u == 7 {
			u++ // the SCSI controller's own unit
		}
		size := d.SizeMiB * 1024 * 1024
		add(&types.VirtualDisk{
			CapacityInKB:    size / 1024,
			CapacityInBytes: size,
			VirtualDevice: types.VirtualDevice{
				Key: int32(2000 + i), ControllerKey: ctrlKey, UnitNumber: unit(u),
				DeviceInfo: info(fmt.Sprintf("Hard disk %d", i+1), fmt.Sprintf("%d KB", size/1024)),
				Backing: &types.VirtualDiskFlatVer2BackingInfo{
					VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{FileName: dsPath(d.File)},
					DiskMode:                     string(types.VirtualDiskModePersistent),
					ThinProvisioned:              types.NewBool(d.Format != "monolithicFlat"),
				},
			},
		})
		u++
	}
	for i, n := range v.NICs {
		card := types.VirtualEthernetCard{
			VirtualDevice: types.VirtualDevice{
				Key: int32(4000 + i), ControllerKey: 100, UnitNumber: unit(int32(7 + i)),
				DeviceInfo: info(fmt.Sprintf("Network adapter %d", i+1), n.Network),
				Backing: &types.VirtualEthernetCardNetworkBackingInfo{
					VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: n.Network},
				},
				Connectable: &types.VirtualDeviceConnectInfo{StartConnected: true, Connected: true, AllowGuestControl: true},
			},
			AddressType: string(types.VirtualEthernetCardMacTypeManual),
			MacAddress:  n.MAC,
		}
		if n.Type == "e1000e" {
			add(&types.VirtualE1000e{VirtualEthernetCard: card})
		} else {
			add(&types.VirtualVmxnet3{VirtualVmxnet: types.VirtualVmxnet{VirtualEthernetCard: card}})
		}
	}
	// An empty CD-ROM on the first IDE channel, as most templates have.
	add(&types.VirtualCdrom{VirtualDevice: types.VirtualDevice{
		Key: 3000, ControllerKey: 200, UnitNumber: unit(0),
		DeviceInfo: info("CD/DVD drive 1", "Remote device"),
		Backing: &types.VirtualCdromRemotePassthroughBackingInfo{
			VirtualDeviceRemoteDeviceBackingInfo: types.VirtualDeviceRemoteDeviceBackingInfo{DeviceName: "", UseAutoDetect: types.NewBool(false)},
		},
		Connectable: &types.VirtualDeviceConnectInfo{StartConnected: false, Connected: false, AllowGuestControl: true},
	}})
	return spec
}
