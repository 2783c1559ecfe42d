#!/usr/bin/env bash
# third_party/gopher-lua is upstream gopher-lua at a pinned version plus
# third_party/gopher-lua.patch (see third_party/gopher-lua/HAZLUA.md). This
# script is the only way the tree is meant to change:
#
#   update-gopher-lua.sh          rewrite the tree as upstream + the patch
#   update-gopher-lua.sh --check  fail unless the tree is exactly upstream +
#                                 the patch (and state.go, vm.go are what
#                                 go-inline makes of _state.go, _vm.go)
#   update-gopher-lua.sh --diff   rewrite the patch from the tree, after
#                                 editing the tree
#
# Upstream comes from the Go module proxy (go mod download), checked against
# the pinned hash; an empty module cache is fine.
set -euo pipefail

module=github.com/yuin/gopher-lua
version=v1.1.2
# The h1: hash of the module zip, as go.sum would record it.
sum=h1:yF/FjE3hD65tBbt0VXLE13HWS9h34fdzJmrWRXwobGA=
# Upstream paths the tree leaves out: the glua REPL (it needs
# chzyer/readline, which the patched go.mod drops), go.sum, GitHub files.
exclude=(cmd go.sum .github)
# hazlua's own files in the tree, in neither upstream nor the patch.
own=(HAZLUA.md)

here=$(cd "$(dirname "$0")" && pwd)
tree=$here/gopher-lua
patchfile=$here/gopher-lua.patch
export PATH=$PATH:/usr/local/go/bin

mode=${1:-update}
case $mode in
update | --check | --diff) ;;
*)
	echo "usage: $0 [--check | --diff]" >&2
	exit 2
	;;
esac

tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT

# upstream DEST: copy upstream at $version, less $exclude, into DEST.
upstream() {
	local json dir got
	json=$(cd "$tmp" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "$module@$version")
	dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p' <<<"$json")
	got=$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",*$/\1/p' <<<"$json")
	if [[ $got != "$sum" || -z $dir ]]; then
		echo "$0: $module@$version: got hash '$got', want $sum" >&2
		exit 1
	fi
	mkdir -p "$1"
	cp -R "$dir/." "$1"
	chmod -R u+w "$1" # the module cache is read-only
	local e
	for e in "${exclude[@]}"; do
		rm -rf "${1:?}/$e"
	done
}

# patched DEST: upstream + the patch into DEST.
patched() {
	upstream "$1"
	patch -d "$1" -p1 -s --fuzz=0 --no-backup-if-mismatch <"$patchfile"
}

# ownexcludes: diff -x options for hazlua's own files.
ownexcludes() {
	local f
	for f in "${own[@]}"; do
		printf -- '-x\n%s\n' "$f"
	done
}

case $mode in
update)
	patched "$tmp/new"
	for f in "${own[@]}"; do
		[[ -e $tree/$f ]] && cp "$tree/$f" "$tmp/new/$f"
	done
	rm -rf "$tree"
	cp -R "$tmp/new" "$tree"
	echo "$tree: $module $version + $(basename "$patchfile")"
	;;
--check)
	patched "$tmp/new"
	mapfile -t x < <(ownexcludes)
	if ! diff -r "${x[@]}" "$tmp/new" "$tree" >"$tmp/out"; then
		sed 's|'"$tmp/new"'|(upstream + patch)|g' "$tmp/out" | head -50 >&2
		echo "$0: $tree is not $module $version + $(basename "$patchfile"): run $0 --diff (after editing the tree) or $0 (to reset it)" >&2
		exit 1
	fi
	# state.go and vm.go are generated from _state.go and _vm.go by
	# upstream's go-inline (Python): a change must be made in both.
	if command -v python3 >/dev/null; then
		mkdir "$tmp/gen"
		cp -R "$tree/_tools" "$tree/_state.go" "$tree/_vm.go" "$tmp/gen"
		(cd "$tmp/gen" && python3 ./_tools/go-inline _state.go _vm.go && gofmt -w state.go vm.go)
		for f in state.go vm.go; do
			if ! cmp -s "$tmp/gen/$f" "$tree/$f"; then
				diff -u "$tree/$f" "$tmp/gen/$f" | head -30 >&2 || true
				echo "$0: $tree/$f is not what go-inline makes of _$f: edit _$f, then run (cd $tree && python3 ./_tools/go-inline _state.go _vm.go && gofmt -w state.go vm.go)" >&2
				exit 1
			fi
		done
	else
		echo "$0: no python3: not checking state.go and vm.go against go-inline" >&2
	fi
	echo "$tree: $module $version + $(basename "$patchfile"): ok"
	;;
--diff)
	upstream "$tmp/a"
	cp -R "$tree" "$tmp/b"
	for f in "${own[@]}"; do
		rm -f "$tmp/b/$f"
	done
	(cd "$tmp" && git -c core.quotepath=off diff --no-index --no-color --no-ext-diff --no-renames \
		--src-prefix= --dst-prefix= a b) >"$tmp/patch" || [[ $? == 1 ]]
	mv "$tmp/patch" "$patchfile"
	echo "$patchfile: $(grep -c '^diff --git' "$patchfile") files changed"
	;;
esac
