"""Nova virt driver for the lab: Nova's FakeDriver (no hypervisor; servers go ACTIVE at once)
that also claims what a KVM host offers a Windows guest.

Nova turns some image properties into required placement traits: os_secure_boot=required
needs COMPUTE_SECURITY_UEFI_SECURE_BOOT and hw_tpm_version needs COMPUTE_SECURITY_TPM_*.
The plain FakeDriver reports neither, so a server from a properly tagged Windows image would
fail with "No valid host was found".
"""
import os_traits

from nova.virt import fake


class LabFakeDriver(fake.FakeDriver):
    capabilities = dict(
        fake.FakeDriver.capabilities,
        supports_secure_boot=True,
        supports_image_type_qcow2=True,
        supports_image_type_vmdk=True,
        supports_image_type_iso=True,
    )

    def update_provider_tree(self, provider_tree, nodename, allocations=None):
        super().update_provider_tree(provider_tree, nodename, allocations=allocations)
        # vTPM traits are reported by the libvirt driver itself, not through capabilities
        provider_tree.add_traits(nodename, os_traits.COMPUTE_SECURITY_TPM_1_2, os_traits.COMPUTE_SECURITY_TPM_2_0)
