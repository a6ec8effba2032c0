"""sushy (Debian python3-sushy), the Redfish library Ironic uses: named operations.

Each op reads or changes what Ironic's redfish driver does through sushy and
returns plain data for the test to compare with the simulated iLO.
"""
import sushy
from serve import serve


def connect(t):
    return sushy.Sushy('https://%s:%d/redfish/v1' % (t['host'], t['port']), username=t['user'],
                       password=t['password'], verify=t['ca'])


def _system(root):
    return root.get_system(root.get_system_collection().members_identities[0])


def _manager(root):
    return root.get_manager(root.get_manager_collection().members_identities[0])


def _vmedia(root, device):
    for m in _manager(root).virtual_media.get_members():
        if any(str(t.value if hasattr(t, 'value') else t).lower() in (['cd', 'dvd'] if device == 'cd' else ['floppy', 'usbstick']) for t in m.media_types):
            return m
    raise LookupError('no %s virtual media member' % device)


def _value(v):
    return v.value if hasattr(v, 'value') else v


def system(root):
    s = _system(root)
    return {
        'identity': s.identity, 'serial_number': s.serial_number, 'uuid': s.uuid, 'bios_version': s.bios_version,
        'power_state': _value(s.power_state),
        'boot': {'target': _value(s.boot.target), 'enabled': _value(s.boot.enabled), 'mode': _value(s.boot.mode)},
        'allowed_boot_targets': sorted(_value(v) for v in s.get_allowed_system_boot_source_values()),
        'allowed_resets': sorted(_value(v) for v in s.get_allowed_reset_system_values()),
        'memory_gib': s.memory_summary.size_gib if s.memory_summary else None,
        'macs': sorted(i.mac_address.lower() for i in s.ethernet_interfaces.get_members()),
    }


def processors(root):
    p = _system(root).processors
    return {'count': p.summary.count, 'architecture': _value(p.summary.architecture),
            'members': [{'model': m.model, 'cores': m.total_cores, 'threads': m.total_threads} for m in p.get_members()]}


def reset(root, value):
    _system(root).reset_system(sushy.ResetType(value))


def set_boot(root, target, enabled):
    _system(root).set_system_boot_options(target=sushy.BootSource(target), enabled=sushy.BootSourceOverrideEnabled(enabled))


def manager(root):
    m = _manager(root)
    return {'identity': m.identity, 'model': m.model, 'firmware_version': m.firmware_version,
            'manager_type': _value(m.manager_type), 'allowed_resets': sorted(_value(v) for v in m.get_allowed_reset_manager_values())}


def manager_reset(root, value):
    _manager(root).reset_manager(sushy.ResetType(value))


def vmedia(root, device):
    m = _vmedia(root, device)
    return {'image': m.image, 'inserted': m.inserted, 'write_protected': m.write_protected,
            'media_types': sorted(_value(t) for t in m.media_types)}


def insert_media(root, device, url):
    _vmedia(root, device).insert_media(url, inserted=True, write_protected=True)


def eject_media(root, device):
    _vmedia(root, device).eject_media()


def bios(root):
    b = _system(root).bios
    return {'attributes': dict(b.attributes), 'pending': dict(b.pending_attributes)}


def set_bios(root, attributes):
    _system(root).bios.set_attributes(attributes)


def secure_boot(root):
    sb = _system(root).secure_boot
    return {'enabled': sb.enabled, 'current_boot': _value(sb.current_boot), 'mode': _value(sb.mode)}


def set_secure_boot(root, enabled):
    _system(root).secure_boot.set_enabled(enabled)


OPS = {f.__name__: f for f in [system, processors, reset, set_boot, manager, manager_reset, vmedia, insert_media, eject_media, bios, set_bios,
                                secure_boot, set_secure_boot]}


def call(root, op, args, kwargs):
    return OPS[op](root, *args, **kwargs)


serve(connect, call)
