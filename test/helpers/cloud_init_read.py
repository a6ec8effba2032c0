"""Reads a config drive with cloud-init's own ConfigDrive data source.

Usage: cloud_init_read.py <directory holding the drive's files> <mac>=<nic> ...

The directory is what mounting the drive would show (this machine cannot
mount ISO 9660: the test extracts it with xorriso or mtools). It is handed to
DataSourceConfigDrive as its seed directory, the first place the data source
reads (through read_config_drive, the same reader it runs on a mounted
device). The NICs the instance would have are given by MAC, as cloud-init
would find them on the system. Prints what the data source found, as JSON.
"""
import json
import os
import shutil
import sys
import tempfile

from cloudinit import distros, helpers, settings
from cloudinit.sources import DataSourceConfigDrive


def main():
    source = sys.argv[1]
    macs = dict(arg.split('=', 1) for arg in sys.argv[2:])
    work = tempfile.mkdtemp(prefix='cloud-init-read-')
    try:
        paths = helpers.Paths({'cloud_dir': os.path.join(work, 'cloud'), 'run_dir': os.path.join(work, 'run')})
        distro = distros.fetch('debian')('debian', {}, paths)
        ds = DataSourceConfigDrive.DataSourceConfigDrive(settings.CFG_BUILTIN, distro, paths)
        shutil.copytree(source, ds.seed_dir)
        ds.known_macs = macs
        found = ds.get_data()
        out = {'found': bool(found)}
        if found:
            userdata = ds.get_userdata_raw()
            out.update({
                'instance_id': ds.get_instance_id(),
                'hostname': ds.get_hostname(fqdn=True).hostname,
                'public_keys': ds.get_public_ssh_keys(),
                'userdata': userdata.decode() if isinstance(userdata, bytes) else userdata,
                'vendordata': ds.vendordata2_pure if hasattr(ds, 'vendordata2_pure') else None,
                'network_config': ds.network_config,
                'version': ds.version,
            })
        print(json.dumps(out, default=str))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
