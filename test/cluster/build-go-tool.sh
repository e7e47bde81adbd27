#!/usr/bin/env bash
# build-go-tool.sh PACKAGE@VERSION: `go install` one pinned command from the Go module proxy into $OUT/bin.
. "$(dirname "$0")/lib.sh"
OUT=${OUT:?}
GOBIN=$OUT/bin CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "$1"
