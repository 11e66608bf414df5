"""Cinder backend for the lab: cinder's own FakeLoggingVolumeDriver (no LVM, no iSCSI
target; attach returns fake connection info, which Nova's fake driver accepts), with each
volume kept as a sparse file under $state_path/volumes, so image->volume and
volume->image really copy bytes with qemu-img instead of failing on /dev/mapper paths.

Encrypted volumes (a volume type with an encryption spec; cinder-api gives each volume of it an
encryption_key_id from the key manager, here Cinder's fixed-key ConfKeyManager, and reports the
volume `encrypted: true`): on a real cloud the guest reads such a volume through LUKS (Nova's
libvirt driver: QEMU's native LUKS, or dm-crypt set up by os-brick's luks encryptor), which
decrypts every sector it reads. A sector nothing was written to through the mapping holds what the
backend had (zeros on a fresh LVM or file volume), and that, decrypted, is noise: the cryptsetup
FAQ's way to wipe a disk with random-looking data is to write zeros through a dm-crypt mapping for
the same reason. So the lab makes the file read as the guest would: random bytes wherever nothing
was written, at creation and in the part an extend adds. Not simulated: the LUKS header, which
makes the guest's disk smaller than the volume by the payload offset (LUKS1, what os-brick formats:
cryptsetup's default 4096 sectors = 2 MiB); the lab's device is the whole file.
"""
import os
import shutil

from oslo_config import cfg

from cinder.tests.fake_driver import FakeLoggingVolumeDriver

NOISE_CHUNK = 4 << 20


def fill_noise(path, start, end):
    """Random bytes in [start, end) of the file: what a decrypted, never-written area reads as."""
    with open(path, "r+b") as f:
        f.seek(start)
        pos = start
        while pos < end:
            n = min(NOISE_CHUNK, end - pos)
            f.write(os.urandom(n))
            pos += n


class FileBackedFakeDriver(FakeLoggingVolumeDriver):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the parent reports the hard-coded backend name "fake", so a volume type whose
        # volume_backend_name is the configured one would find "No valid backend"
        self.backend_name = self.configuration.safe_get("volume_backend_name") or "fake"

    def _path(self, volume):
        return os.path.join(cfg.CONF.state_path, "volumes", volume["name"])

    @staticmethod
    def _encrypted(volume):
        return bool(volume.get("encryption_key_id"))

    def local_path(self, volume, vg=None):
        return self._path(volume)

    def create_volume(self, volume):
        ret = super().create_volume(volume)
        with open(self._path(volume), "ab") as f:
            f.truncate(int(volume["size"]) << 30)
        if self._encrypted(volume):
            fill_noise(self._path(volume), 0, int(volume["size"]) << 30)
        return ret

    def delete_volume(self, volume):
        try:
            os.unlink(self._path(volume))
        except FileNotFoundError:
            pass

    def create_cloned_volume(self, volume, src_vref):
        src = self._path(src_vref)
        if os.path.exists(src):
            shutil.copyfile(src, self._path(volume))
        self.extend_volume(volume, volume["size"])

    def create_volume_from_snapshot(self, volume, snapshot):
        self.create_volume(volume)

    def extend_volume(self, volume, new_size):
        p = self._path(volume)
        old = os.path.getsize(p) if os.path.exists(p) else 0
        with open(p, "ab") as f:
            f.truncate(int(new_size) << 30)
        if self._encrypted(volume) and (int(new_size) << 30) > old:
            # the added blocks were never written either (a LUKS device grown with
            # `cryptsetup resize` decrypts whatever the backend had there)
            fill_noise(p, old, int(new_size) << 30)
