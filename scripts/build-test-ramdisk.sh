#!/usr/bin/env bash
# Builds the tiny ramdisk the QEMU boot tests boot from ISOs made by lib/media:
# Debian's kernel (the linux-image-amd64 .deb, downloaded with apt-get) plus an
# initramfs of busybox-static and the modules for iLO-like USB virtual media
# and a virtio NIC. /init is scripts/test-ramdisk/init.
#
# Usage: scripts/build-test-ramdisk.sh [cache-dir]     (default: .work/test-ramdisk)
# Prints   KERNEL=<path>   and   INITRD=<path>   on stdout; everything else goes to stderr.
# The result is cached under cache-dir, keyed by kernel version and by the
# inputs below, so a second run is instant. Needs: apt-get (with package lists),
# dpkg-deb, depmod and modprobe (kmod), cpio, gzip, busybox-static.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/scripts/test-ramdisk"
cache=${1:-"$root/.work/test-ramdisk"}
mkdir -p "$cache/debs"

die() { echo "build-test-ramdisk: $*" >&2; exit 1; }
for tool in apt-cache apt-get dpkg-deb depmod modprobe cpio gzip sha256sum flock; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || [ -x "/sbin/$tool" ] || die "missing $tool"
done
PATH="$PATH:/usr/sbin:/sbin"
busybox=/bin/busybox
[ -x "$busybox" ] || die "missing $busybox (Debian package busybox-static)"
case "$(ldd "$busybox" 2>&1 || true)" in
  *"not a dynamic"* | *"statically linked"*) ;;
  *) die "$busybox is not statically linked (install busybox-static)" ;;
esac

# Modules, by name; their dependencies are added in load order by modprobe --show-depends.
MODULES=(
  xhci-pci usb-storage sd_mod crct10dif_generic crc64_rocksoft_generic sr_mod isofs
  vfat nls_cp437 nls_ascii nls_utf8 nls_iso8859-1
  virtio_pci virtio_net
)

pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$pkg" ] || die "cannot resolve linux-image-amd64 to a kernel package (run apt-get update?)"
kver=${pkg#linux-image-}
key=$( (echo "${MODULES[*]}"; cat "$src/init" "$src/udhcpc.script" "$0"; sha256sum "$busybox") | sha256sum | cut -c1-12)
out="$cache/$kver-$key"

print() { echo "KERNEL=$out/vmlinuz"; echo "INITRD=$out/initramfs.cpio.gz"; }

# Two test files may ask at once: one builds, the other waits for it.
exec 9>"$cache/.lock"
flock 9
if [ -s "$out/vmlinuz" ] && [ -s "$out/initramfs.cpio.gz" ]; then
  print
  exit 0
fi

work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT

deb=$(ls "$cache/debs/${pkg}_"*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
  echo "build-test-ramdisk: downloading $pkg" >&2
  (cd "$cache/debs" && apt-get download "$pkg" >&2) || die "apt-get download $pkg failed"
  deb=$(ls "$cache/debs/${pkg}_"*.deb | head -n 1)
fi

echo "build-test-ramdisk: unpacking $(basename "$deb")" >&2
dpkg-deb -x "$deb" "$work/kpkg"
moddir="$work/kpkg/lib/modules/$kver"
[ -d "$moddir" ] || die "$deb has no lib/modules/$kver"
depmod -b "$work/kpkg" "$kver"

rootfs="$work/root"
mkdir -p "$rootfs"/{bin,dev,proc,sys,tmp,etc,mnt/floppy,mnt/cdrom,lib/modules}
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
ln -s bin "$rootfs/sbin"
install -m 0755 "$src/init" "$rootfs/init"
install -m 0755 "$src/udhcpc.script" "$rootfs/etc/udhcpc.script"

: >"$rootfs/lib/modules/load.order"
for m in "${MODULES[@]}"; do
  deps=$(modprobe -d "$work/kpkg" -S "$kver" --show-depends "$m") || die "module $m not in $pkg"
  while read -r kind path _; do
    [ "$kind" = "insmod" ] || continue # "builtin ..." needs nothing
    name=$(basename "$path")
    grep -qxF "$name" "$rootfs/lib/modules/load.order" && continue
    cp "$path" "$rootfs/lib/modules/$name"
    echo "$name" >>"$rootfs/lib/modules/load.order"
  done <<<"$deps"
done

mkdir -p "$work/out"
(cd "$rootfs" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9) >"$work/out/initramfs.cpio.gz"
cp "$work/kpkg/boot/vmlinuz-$kver" "$work/out/vmlinuz"
echo "build-test-ramdisk: $(wc -l <"$rootfs/lib/modules/load.order") modules, initramfs $(stat -c %s "$work/out/initramfs.cpio.gz") bytes" >&2
rm -rf "$out"
mv "$work/out" "$out"
# Keep only this build and the .deb it came from.
find "$cache" -mindepth 1 -maxdepth 1 -type d -name '*-*' ! -path "$out" ! -name debs -exec rm -rf {} +
find "$cache/debs" -name '*.deb' ! -path "$deb" -delete
print
