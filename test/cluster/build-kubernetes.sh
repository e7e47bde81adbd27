#!/usr/bin/env bash
# Builds the Kubernetes server binaries from the Go module proxy into $OUT/bin.
# A small main module of our own requires k8s.io/kubernetes and replaces each staging module
# (required there as v0.0.0) with its published version: the documented way to depend on it.
. "$(dirname "$0")/lib.sh"
OUT=${OUT:?}
src=$OUT/src
mkdir -p "$src" "$OUT/bin"
cd "$src"

go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" >download.json
upstream_mod=$(sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p' download.json)
[ -f "$upstream_mod" ] || die "no go.mod for k8s.io/kubernetes@$KUBERNETES_VERSION"

commands="kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy"
{
  echo "module atrium.test/kubernetes-build"
  echo
  echo "go $(sed -n 's/^go //p' "$upstream_mod")"
  echo
  echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
  echo
  echo "replace ("
  # The staging modules: every k8s.io/... v0.0.0 requirement upstream (sample-apiserver is refused
  # by the proxy and not needed by the commands built here).
  grep -oE '^\s+k8s\.io/[a-z0-9-]+ v0\.0\.0' "$upstream_mod" | awk '{print $1}' | sort -u |
    grep -v '^k8s.io/sample-apiserver$' |
    while read -r m; do echo "	$m v0.0.0 => $m $KUBERNETES_STAGING_VERSION"; done
  echo ")"
} >go.mod
{
  echo "//go:build tools"
  echo
  echo "package tools"
  echo
  echo "import ("
  for c in $commands; do echo "	_ \"k8s.io/kubernetes/cmd/$c\""; done
  echo ")"
} >tools.go
go mod tidy

major=${KUBERNETES_VERSION#v}; major=${major%%.*}
minor=${KUBERNETES_VERSION#v*.}; minor=${minor%%.*}
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  ldflags="$ldflags -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%FT%TZ)"
done
for c in $commands; do
  start=$SECONDS
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$OUT/bin/$c" "k8s.io/kubernetes/cmd/$c"
  log "built $c in $((SECONDS - start)) s"
done
"$OUT/bin/kubelet" --version
