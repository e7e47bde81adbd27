#!/usr/bin/env bash
# Builds the base images listed in images.json, tagged with their upstream names, as docker-archive
# tars in the cache: a debootstrapped Debian rootfs, packages installed in a chroot. No registry
# is needed (none is reachable here); up.sh imports them into containerd.
. "$(dirname "$0")/lib.sh"
. "$CLUSTER_DIR/image-lib.sh"
require_root
REPO=$(cd "$CLUSTER_DIR/../.." && pwd)
MIRROR=http://deb.debian.org/debian

image_name() { jq -r ".$1.image" "$CLUSTER_DIR/images.json"; }
# recipe_hash IMAGE FUNCTIONS FILE...: a key that changes when the image's recipe changes (its
# images.json entry, the shell functions that build it, its input files).
recipe_hash() {
  local image=$1 functions=$2
  shift 2
  # shellcheck disable=SC2086
  { jq -c ".$image" "$CLUSTER_DIR/images.json"; declare -f $functions; cat "$@"; } | sha256sum | cut -c1-12
}

build_rootfs() {
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$OUT/rootfs" "$MIRROR" >"$OUT/debootstrap.log"
  cat >"$OUT/rootfs/etc/apt/sources.list" <<SOURCES
deb $MIRROR $DEBIAN_SUITE main
deb $MIRROR $DEBIAN_SUITE-updates main
deb http://deb.debian.org/debian-security $DEBIAN_SUITE-security main
SOURCES
  apt_in_chroot "$OUT/rootfs" ca-certificates
}

# A copy of the Debian rootfs to install an image's packages into.
fresh_root() {
  rm -rf "$OUT/root"
  cp -a "$ROOTFS" "$OUT/root"
  echo "$OUT/root"
}

build_pause() {
  mkdir -p "$OUT/root"
  gcc -static -Os -o "$OUT/root/pause" "$CLUSTER_DIR/pause.c"
  strip "$OUT/root/pause"
  pack_image "$OUT/root" "$(image_name pause)" '{"Entrypoint": ["/pause"], "User": "65535:65535"}' "$OUT/image.tar"
  rm -rf "$OUT/root"
}

build_python() {
  local root uv name
  root=$(fresh_root)
  apt_in_chroot "$root" python3 python3-venv tini openssh-sftp-server
  for name in python3 python python3.11; do ln -sf /usr/bin/python3.11 "$root/usr/local/bin/$name"; done
  uv=$(bash "$REPO/scripts/ensure-uv.sh")
  [ "$("$uv" --version | cut -d' ' -f2)" = "$(jq -r .python.uv "$CLUSTER_DIR/images.json")" ] ||
    die "envs/tools pins $("$uv" --version), images.json says uv $(jq -r .python.uv "$CLUSTER_DIR/images.json")"
  install -m 0755 "$uv" "$(dirname "$uv")/uvx" "$root/usr/local/bin/"
  pack_image "$root" "$(image_name python)" \
    '{"Cmd": ["/usr/local/bin/uv"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"]}' \
    "$OUT/image.tar"
  rm -rf "$root"
}

build_proxy() {
  local root version
  root=$(fresh_root)
  version=$(jq -r .proxy.version "$CLUSTER_DIR/images.json")
  apt_in_chroot "$root" nodejs
  # npm runs on the host (Debian's npm package drags in hundreds of packages); the proxy is pure JS.
  npm install --global --no-audit --no-fund --omit=dev --prefix "$root/usr/local" \
    "configurable-http-proxy@$version" >"$OUT/npm.log"
  in_chroot "$root" configurable-http-proxy --version | grep -qx "$version" || die "configurable-http-proxy $version does not run in the image"
  pack_image "$root" "$(image_name proxy)" \
    '{"Entrypoint": ["configurable-http-proxy"], "User": "65534", "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}' \
    "$OUT/image.tar"
  rm -rf "$root"
}

build_dns() {
  local binary=$CACHE/coredns-$COREDNS_VERSION/bin/coredns
  [ -x "$binary" ] || die "$binary is missing: build.sh builds CoreDNS before the images"
  [ "$(image_name dns)" = "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" ] || die "images.json's dns image does not match COREDNS_VERSION"
  mkdir -p "$OUT/root"
  install -m 0755 "$binary" "$OUT/root/coredns"
  pack_image "$OUT/root" "$(image_name dns)" '{"Entrypoint": ["/coredns"], "User": "65534"}' "$OUT/image.tar"
  rm -rf "$OUT/root"
}

# prune_other PREFIX: removes the cached builds PREFIX-* other than the current one ($OUT).
prune_other() {
  local dir
  for dir in "$CACHE/$1"-*/; do
    [ "${dir%/}" = "$OUT" ] || rm -rf "${dir%/}"
  done
}

cached "debian-rootfs-$DEBIAN_SUITE-$(recipe_hash rootfs "build_rootfs apt_in_chroot in_chroot")" build_rootfs
prune_other "debian-rootfs-$DEBIAN_SUITE"
ROOTFS=$OUT/rootfs
for image in pause python proxy dns; do
  inputs=()
  [ "$image" = pause ] && inputs=("$CLUSTER_DIR/pause.c")
  [ "$image" = python ] && inputs=("$REPO/envs/tools/requirements.lock")
  [ "$image" = dns ] && inputs=("$CACHE/coredns-$COREDNS_VERSION/.done")
  cached "image-$image-$(recipe_hash "$image" "build_$image fresh_root pack_image apt_in_chroot in_chroot" "${inputs[@]}")" "build_$image"
  prune_other "image-$image"
  echo "$OUT/image.tar" >"$CACHE/image-$image.current"
done
