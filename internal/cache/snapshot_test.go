package cache

import (
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

func TestSnapshot(t *testing.T) {
	inTempDir(t)
	fixture(t, "out")
	h := func(s string) fingerprint.Sum { return fingerprint.HashBytes([]byte(s)) }
	want := []Item{
		{Path: "out", Kind: Dir, Mode: 0o755},
		{Path: "out/a.txt", Kind: File, Mode: 0o644, Hash: h("hello\n")},
		{Path: "out/abs", Kind: Symlink, Target: "/etc/hostname"},
		{Path: "out/bin", Kind: Dir, Mode: 0o755},
		{Path: "out/bin/suid", Kind: File, Mode: 0o755 | fs.ModeSetuid, Hash: h("suid")},
		{Path: "out/bin/tool", Kind: File, Mode: 0o755, Hash: h("#!/bin/sh\necho hi\n")},
		{Path: "out/dangling", Kind: Symlink, Target: "nowhere/at/all"},
		{Path: "out/deep", Kind: Dir, Mode: 0o755},
		{Path: "out/deep/er", Kind: Dir, Mode: 0o755},
		{Path: "out/deep/er/still", Kind: Dir, Mode: 0o755},
		{Path: "out/deep/er/still/x.o", Kind: File, Mode: 0o644, Hash: h(strings.Repeat("x", 3<<20+17))},
		{Path: "out/empty", Kind: Dir, Mode: 0o755},
		{Path: "out/empty-file", Kind: File, Mode: 0o644, Hash: h("")},
		{Path: "out/locked", Kind: Dir, Mode: 0o555},
		{Path: "out/rel", Kind: Symlink, Target: "a.txt"},
		{Path: "out/same1", Kind: File, Mode: 0o644, Hash: h("same")},
		{Path: "out/same2", Kind: File, Mode: 0o640, Hash: h("same")},
		{Path: "out/secret", Kind: File, Mode: 0o600, Hash: h("s3cr3t")},
		{Path: "out/sticky", Kind: Dir, Mode: 0o777 | fs.ModeSticky},
		{Path: "out/todir", Kind: Symlink, Target: "bin"},
	}
	tests := []struct {
		name  string
		roots []string
		want  []Item
	}{
		{"tree", []string{"out"}, want},
		{"nested roots and duplicates appear once", []string{"out/bin", "out", "out/bin/tool", "out", "out/todir"}, want},
		{"file", []string{"out/a.txt"}, want[1:2]},
		{"symlink to a directory is not followed", []string{"out/todir"}, want[len(want)-1:]},
		{"dangling symlink", []string{"out/dangling"}, want[6:7]},
		{"several", []string{"out/secret", "out/bin"}, []Item{want[3], want[4], want[5], want[17]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := snapshot(t, tt.roots...)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Snapshot(%q) =\n%s\nwant\n%s", tt.roots, itemLines(got), itemLines(tt.want))
			}
		})
	}
	t.Run("absolute", func(t *testing.T) {
		abs, err := filepath.Abs("out/bin")
		if err != nil {
			t.Fatal(err)
		}
		got := snapshot(t, abs)
		if len(got) != 3 || got[0].Path != abs || got[2].Path != abs+"/tool" || got[2].Hash != want[5].Hash {
			t.Errorf("Snapshot(%s) =\n%s", abs, itemLines(got))
		}
	})
}

// itemLines formats items one a line.
func itemLines(items []Item) string {
	var b strings.Builder
	for _, it := range items {
		b.WriteString(it.Path + " " + it.Kind.String() + " " + it.Mode.String() + " " + it.Target + " " + it.Hash.String()[:8] + "\n")
	}
	return b.String()
}

func TestSnapshotErrors(t *testing.T) {
	inTempDir(t)
	fixture(t, "out")
	mkdir(t, "pipes", 0o755)
	if err := syscall.Mkfifo("pipes/fifo", 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		roots   []string
		names   string // the error must contain it
		notExst bool   // the error must wrap fs.ErrNotExist
	}{
		{"missing", []string{"out/a.txt", "out/nope"}, "out/nope", true},
		{"missing inside a listed directory", []string{"out", "out/nope"}, "out/nope", true},
		{"fifo at the top", []string{"pipes/fifo"}, "pipes/fifo: a named pipe", false},
		{"fifo inside", []string{"out", "pipes"}, "pipes/fifo: a named pipe", false},
		{"unclean", []string{"out/bin/"}, `"out/bin/"`, false},
		{"dot", []string{"."}, `"."`, false},
		{"dot dot", []string{"out/.."}, `"out/.."`, false},
		{"empty", []string{""}, "empty output path", false},
		{"through a symlink in a listed directory", []string{"out", "out/todir/tool"}, "out/todir/tool", false},
		{"through a symlink listed", []string{"out/todir", "out/todir/tool"}, "out/todir/tool", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := Snapshot(tt.roots, hashFile)
			if err == nil {
				t.Fatalf("Snapshot(%q) = %d items, want an error", tt.roots, len(items))
			}
			if !strings.Contains(err.Error(), tt.names) || !strings.HasPrefix(err.Error(), "cache: ") {
				t.Errorf("error %q does not name %s", err, tt.names)
			}
			if errors.Is(err, fs.ErrNotExist) != tt.notExst {
				t.Errorf("error %q: errors.Is(fs.ErrNotExist) = %v", err, !tt.notExst)
			}
		})
	}
	t.Run("hash fails", func(t *testing.T) {
		failing := func(p string) (fingerprint.Sum, error) {
			if p == "out/secret" {
				return fingerprint.Sum{}, errors.New("boom")
			}
			return hashFile(p)
		}
		_, err := Snapshot([]string{"out/secret", "out/a.txt"}, failing)
		if err == nil || !strings.Contains(err.Error(), "out/secret: boom") {
			t.Errorf("err = %v, want it to name out/secret", err)
		}
	})
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{File: "file", Dir: "dir", Symlink: "symlink", 7: "Kind(7)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
		if got, ok := parseKind(want); ok != (k <= Symlink) || ok && got != k {
			t.Errorf("parseKind(%q) = %v, %v", want, got, ok)
		}
	}
}
