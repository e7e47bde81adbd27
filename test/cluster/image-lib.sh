# Helpers for building container images without a registry or a container engine (sourced).

# in_chroot ROOT CMD...: run CMD inside the rootfs ROOT with /proc, the host's DNS and CA bundle,
# and no service starts; everything mounted is unmounted again, also on failure.
in_chroot() {
  local root=$1 rc=0
  shift
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mkdir -p "$root/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod +x "$root/usr/sbin/policy-rc.d"
  mount -t proc proc "$root/proc"
  chroot "$root" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@" || rc=$?
  umount "$root/proc"
  rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf"
  return $rc
}

# apt_in_chroot ROOT PACKAGE...: install Debian packages in ROOT and drop apt's caches.
apt_in_chroot() {
  local root=$1
  shift
  in_chroot "$root" apt-get update -qq
  in_chroot "$root" apt-get install -y -qq --no-install-recommends "$@"
  in_chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log
}

# pack_image ROOT NAME CONFIG_JSON OUT_TAR: pack the directory ROOT as a one-layer docker-archive
# tar tagged NAME (what `ctr images import` reads). CONFIG_JSON is the image's runtime config
# ({"Entrypoint": [...], "Cmd": [...], "Env": [...], "User": "..."}).
pack_image() {
  local root=$1 name=$2 config=$3 out=$4 work diff_id config_sha
  work=$(mktemp -d)
  tar --numeric-owner --sort=name --mtime=@0 --exclude='./proc/*' --exclude='./sys/*' \
    --exclude='./dev/*' --exclude='./tmp/*' -C "$root" -cf "$work/layer.tar" .
  diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
  mkdir "$work/$diff_id"
  mv "$work/layer.tar" "$work/$diff_id/layer.tar"
  jq -n --argjson c "$config" --arg d "sha256:$diff_id" \
    '{architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z", config: $c,
      rootfs: {type: "layers", diff_ids: [$d]}, history: [{created: "1970-01-01T00:00:00Z"}]}' \
    >"$work/config.json"
  config_sha=$(sha256sum "$work/config.json" | cut -d' ' -f1)
  mv "$work/config.json" "$work/$config_sha.json"
  jq -n --arg c "$config_sha.json" --arg n "$name" --arg l "$diff_id/layer.tar" \
    '[{Config: $c, RepoTags: [$n], Layers: [$l]}]' >"$work/manifest.json"
  tar -C "$work" -cf "$out" manifest.json "$config_sha.json" "$diff_id"
  rm -rf "$work"
}
