#!/usr/bin/env bash
# Installs the Debian tools the tests drive for real (real iLO client, IPMI
# simulator, ISO/FAT readers, QEMU, Swift, iSCSI target, Chromium, PostgreSQL).
# On Debian as root: installs whatever is missing. Elsewhere: names what is
# missing; the tests that need it then report loudly that they did not run.
# Set ILO_DEPLOY_NO_PROVISION=1 to skip entirely.
set -u

PACKAGES=(
  # issue 2/3: a real RIBCL client to check the simulator
  python3-hpilo
  # issue 16: the real clients operators use (Ironic's ilo and redfish drivers) drive the simulator;
  # sushy is also the Redfish baseline of `npm run bench -- power` (issue 17)
  python3-proliantutils python3-sushy
  # issue 3: ipmitool against OpenIPMI's simulator
  ipmitool openipmi
  # issue 4: read back the media we build, and boot it
  xorriso mtools dosfstools isolinux syslinux-common grub-efi-amd64-bin grub-common
  qemu-system-x86 qemu-utils qemu-block-extra ovmf busybox-static cpio kmod
  # issue 5: a real Swift on loopback
  swift swift-proxy swift-object swift-container swift-account python3-swiftclient memcached curl
  # issue 5: Keystone v3 (sqlite, uwsgi) for the Swift/Glance auth tests
  keystone
  # issue 6: iSCSI target and userspace initiator
  tgt libiscsi-bin fdisk e2fsprogs dosfstools
  # issue 13: a real Swift whose clock a test moves on (libfaketime), past a boot ISO's old 30-day lifetime
  libfaketime
  # issue 11: a real PostgreSQL for the shared deploy store (tests start their own cluster in a temp dir)
  postgresql
  # issue 7: a real browser for the editor tests and the dashboard example (driven by playwright-core / CDP)
  chromium
  # issue 13: the config drive's real consumer (cloud-init's ConfigDrive data source reads what we build and
  # write), and the tools ironic-python-agent adds its config drive partition with (the simulated agent runs them)
  cloud-init gdisk parted
)

[ "${ILO_DEPLOY_NO_PROVISION:-0}" = "1" ] && exit 0

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
else
  missing=("${PACKAGES[@]}")
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "provision: all test tools present"
  exit 0
fi

if [ -r /etc/debian_version ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "provision: running as root on Debian: installing ${#missing[@]} Debian package(s) with apt-get for the tests"
  echo "provision: (set ILO_DEPLOY_NO_PROVISION=1 to skip this; the tests needing them then report NOT RUN): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null 2>&1 || echo "provision: apt-get update failed; trying the install anyway"
  if ! apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/tmp/ilo-deploy-provision.log 2>&1; then
    echo "provision: apt-get install FAILED (log: /tmp/ilo-deploy-provision.log); tests needing these tools will say they did not run"
    tail -n 20 /tmp/ilo-deploy-provision.log
  else
    echo "provision: done"
  fi
  exit 0
fi

echo "provision: NOT INSTALLED (not Debian as root): ${missing[*]}"
echo "provision: tests that need them will report loudly that they did not run"
exit 0
