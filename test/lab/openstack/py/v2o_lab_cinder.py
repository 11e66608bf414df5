"""Cinder backend for the lab: cinder's own FakeLoggingVolumeDriver (no LVM, no iSCSI
target; attach returns fake connection info, which Nova's fake driver accepts), with each
volume kept as a sparse file under $state_path/volumes, so image->volume and
volume->image really copy bytes with qemu-img instead of failing on /dev/mapper paths.
"""
import os
import shutil

from oslo_config import cfg

from cinder.tests.fake_driver import FakeLoggingVolumeDriver


class FileBackedFakeDriver(FakeLoggingVolumeDriver):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the parent reports the hard-coded backend name "fake", so a volume type whose
        # volume_backend_name is the configured one would find "No valid backend"
        self.backend_name = self.configuration.safe_get("volume_backend_name") or "fake"

    def _path(self, volume):
        return os.path.join(cfg.CONF.state_path, "volumes", volume["name"])

    def local_path(self, volume, vg=None):
        return self._path(volume)

    def create_volume(self, volume):
        ret = super().create_volume(volume)
        with open(self._path(volume), "ab") as f:
            f.truncate(int(volume["size"]) << 30)
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
        with open(self._path(volume), "ab") as f:
            f.truncate(int(new_size) << 30)
