#!/usr/bin/env bash
# Checks that third_party/gopher-lua is upstream + third_party/gopher-lua.patch,
# then runs gopher-lua's own test suite (its Go tests, which run the
# _glua-tests and _lua5.1-tests scripts it ships) on that patched copy.
# .ci/run calls it; it needs Go and network access to the Go module proxy
# only when upstream is not in the module cache yet. (Not go vet: upstream
# does not pass it.)
set -euo pipefail

cd "$(dirname "$0")"
export PATH=$PATH:/usr/local/go/bin

./update-gopher-lua.sh --check
cd gopher-lua
go test -count=1 ./...
