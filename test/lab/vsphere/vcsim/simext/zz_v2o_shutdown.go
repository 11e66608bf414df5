// v2o lab add-on compiled INTO package simulator (test-only): ShutdownGuest as ESXi does it.
// vcsim 0.24 powers the VM off at once without looking at VMware Tools; the build renames that
// method to upstreamShutdownGuest in an overlaid copy of virtual_machine.go (see up.sh).
// Here: powered off → InvalidPowerState, Tools not running → ToolsUnavailable, else the call
// returns at once and the guest powers off after its shutdownDelayMs (500 ms), or never when
// the test made it ignore shutdowns. VMs without a simulated guest keep vcsim's behaviour.
package simulator

import (
	"time"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func (vm *VirtualMachine) ShutdownGuest(ctx *Context, c *types.ShutdownGuest) soap.HasFault {
	g := v2oGuestOf(vm.Self.Value)
	if g == nil {
		return vm.upstreamShutdownGuest(ctx, c)
	}
	r := &methods.ShutdownGuestBody{}
	if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		r.Fault_ = Fault("", &types.InvalidPowerState{
			RequestedState: types.VirtualMachinePowerStatePoweredOn,
			ExistingState:  vm.Runtime.PowerState,
		})
		return r
	}
	if vm.Guest == nil || vm.Guest.ToolsRunningStatus != string(types.VirtualMachineToolsRunningStatusGuestToolsRunning) {
		r.Fault_ = Fault("", new(types.ToolsUnavailable))
		return r
	}
	g.mu.Lock()
	delay, ignore := g.ShutdownDelay, g.IgnoreShutdown
	g.mu.Unlock()
	if !ignore {
		go func() {
			time.Sleep(delay)
			Map.WithLock(vm, func() {
				if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
					return
				}
				off := types.VirtualMachinePowerStatePoweredOff
				vm.Runtime.PowerState = off
				vm.Summary.Runtime.PowerState = off
				Map.Update(vm, []types.PropertyChange{
					{Name: "runtime.powerState", Val: off},
					{Name: "summary.runtime.powerState", Val: off},
				})
			})
		}()
	}
	r.Res = new(types.ShutdownGuestResponse)
	return r
}
