package luaapi

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hazlua/hazlua/internal/testutil"
	lua "github.com/yuin/gopher-lua"
)

// Tests for the leaf modules: haz.fs, haz.path, haz.glob, haz.json,
// haz.env, haz.which and haz.hash. Every test name starts with TestLeaf.

// newLeafState returns a Lua state with a global haz table built from the
// leaf constructors only, and the global D set to dir (when not empty).
func newLeafState(t *testing.T, dir string) *lua.LState {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	haz := L.NewTable()
	haz.RawSetString("fs", newFSModule(L))
	haz.RawSetString("path", newPathModule(L))
	haz.RawSetString("glob", L.NewFunction(hazGlob))
	haz.RawSetString("json", newJSONModule(L))
	haz.RawSetString("env", newEnvTable(L, nil))
	haz.RawSetString("which", L.NewFunction(hazWhich))
	haz.RawSetString("hash", newModule(L, nil, "haz.hash"))
	L.SetGlobal("haz", haz)
	if dir != "" {
		L.SetGlobal("D", lua.LString(dir))
	}
	return L
}

// evalLua runs src as the chunk "test.lua" and returns what it returns
// rendered by leafRepr, or the error message (without traceback).
func evalLua(t *testing.T, L *lua.LState, src string) (string, error) {
	t.Helper()
	top := L.GetTop()
	defer L.SetTop(top)
	fn, err := L.Load(strings.NewReader(src), "test.lua")
	if err != nil {
		t.Fatalf("load %q: %v", src, err)
	}
	L.Push(fn)
	if err := L.PCall(0, lua.MultRet, nil); err != nil {
		if ae, ok := err.(*lua.ApiError); ok {
			if ae.Type == lua.ApiErrorPanic {
				t.Fatalf("Go panic escaped for %q: %v", src, err)
			}
			return "", fmt.Errorf("%s", ae.Object.String())
		}
		return "", err
	}
	var vals []string
	for i := top + 1; i <= L.GetTop(); i++ {
		vals = append(vals, leafRepr(L.Get(i)))
	}
	return strings.Join(vals, ", "), nil
}

// leafRepr renders a Lua value for comparisons: strings quoted, tables as
// {v1, v2, k=v} with list items first and other keys sorted.
func leafRepr(v lua.LValue) string {
	switch v := v.(type) {
	case lua.LString:
		return strconv.Quote(string(v))
	case *lua.LTable:
		var items, keyed []string
		n := v.Len()
		for i := 1; i <= n; i++ {
			items = append(items, leafRepr(v.RawGetInt(i)))
		}
		v.ForEach(func(k, val lua.LValue) {
			if f, ok := k.(lua.LNumber); ok && f >= 1 && int(f) <= n && float64(int(f)) == float64(f) {
				return
			}
			keyed = append(keyed, k.String()+"="+leafRepr(val))
		})
		slices.Sort(keyed)
		return "{" + strings.Join(append(items, keyed...), ", ") + "}"
	case *lua.LUserData:
		if _, ok := v.Value.(jsonNullT); ok {
			return "null"
		}
	}
	return v.String()
}

// leafCase is one Lua snippet and what it must return or raise.
type leafCase struct {
	name    string
	src     string
	want    string // leafRepr of the results, when wantErr is empty
	wantErr string // prefix of the raised message, e.g. "test.lua:1: haz.fs.read: "
}

// runLeafCases runs cases as subtests in one state.
func runLeafCases(t *testing.T, L *lua.LState, cases []leafCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := evalLua(t, L, c.src)
			if c.wantErr != "" {
				if err == nil {
					t.Fatalf("%s\nreturned %s, want error %q", c.src, got, c.wantErr)
				}
				if !strings.HasPrefix(err.Error(), c.wantErr) {
					t.Fatalf("%s\nerror %q\nwant prefix %q", c.src, err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\nerror: %v", c.src, err)
			}
			if got != c.want {
				t.Fatalf("%s\ngot  %s\nwant %s", c.src, got, c.want)
			}
		})
	}
}

// leafMode returns the mode bits write and copy keep.
func leafMode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

// leafNames lists a directory's entry names.
func leafNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestLeafFSQueries(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	testutil.WriteFile(t, d+"/f.txt", "hello\x00world\n", 0o644)
	testutil.WriteFile(t, d+"/empty", "", 0o644)
	if err := os.Mkdir(d+"/dir", 0o755); err != nil {
		t.Fatal(err)
	}
	testutil.Symlink(t, "dir", d+"/dirlink")
	testutil.Symlink(t, "nowhere", d+"/dangling")
	mt := time.Unix(1700000000, 250_000_000)
	if err := os.Chtimes(d+"/f.txt", mt, mt); err != nil {
		t.Fatal(err)
	}
	L := newLeafState(t, d)
	runLeafCases(t, L, []leafCase{
		{name: "exists file", src: `return haz.fs.exists(D.."/f.txt")`, want: "true"},
		{name: "exists dir", src: `return haz.fs.exists(D.."/dir")`, want: "true"},
		{name: "exists missing", src: `return haz.fs.exists(D.."/missing")`, want: "false"},
		{name: "exists dangling symlink", src: `return haz.fs.exists(D.."/dangling")`, want: "false"},
		{name: "exists number path", src: `return haz.fs.exists(12345)`, want: "false"},
		{name: "exists NUL in path", src: `return haz.fs.exists("a\0b")`, want: "false"},
		{name: "exists nil", src: `return haz.fs.exists()`, wantErr: "test.lua:1: haz.fs.exists: bad argument #1 (string expected, got nil)"},
		{name: "isdir dir", src: `return haz.fs.isdir(D.."/dir")`, want: "true"},
		{name: "isdir symlink to dir", src: `return haz.fs.isdir(D.."/dirlink")`, want: "true"},
		{name: "isdir file", src: `return haz.fs.isdir(D.."/f.txt")`, want: "false"},
		{name: "isdir missing", src: `return haz.fs.isdir(D.."/missing")`, want: "false"},
		{name: "isdir table", src: "\n\nreturn haz.fs.isdir({})", wantErr: "test.lua:3: haz.fs.isdir: bad argument #1 (string expected, got table)"},
		{name: "read binary", src: `return haz.fs.read(D.."/f.txt")`, want: `"hello\x00world\n"`},
		{name: "read empty", src: `return haz.fs.read(D.."/empty")`, want: `""`},
		{name: "read missing", src: `return haz.fs.read(D.."/missing")`, want: `nil, "haz.fs.read: open ` + d + `/missing: no such file or directory"`},
		{name: "read dir", src: `return haz.fs.read(D.."/dir")`, want: `nil, "haz.fs.read: read ` + d + `/dir: is a directory"`},
		{name: "read bad arg", src: `return haz.fs.read(true)`, wantErr: "test.lua:1: haz.fs.read: bad argument #1 (string expected, got boolean)"},
		{name: "read in pcall", src: "local ok, e = pcall(haz.fs.read)\nreturn ok, e", want: `false, "test.lua:1: haz.fs.read: bad argument #1 (string expected, got nil)"`},
		{name: "mtime", src: `return haz.fs.mtime(D.."/f.txt") == 1700000000.25`, want: "true"},
		{name: "mtime follows symlink", src: `return haz.fs.mtime(D.."/dirlink") == haz.fs.mtime(D.."/dir")`, want: "true"},
		{name: "mtime missing", src: `return haz.fs.mtime(D.."/missing")`, want: `nil, "haz.fs.mtime: stat ` + d + `/missing: no such file or directory"`},
		{name: "mtime bad arg", src: `return haz.fs.mtime(nil)`, wantErr: "test.lua:1: haz.fs.mtime: bad argument #1"},
	})
}

func TestLeafFSWrite(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	umask := testutil.Umask(t)
	testutil.WriteFile(t, d+"/exec.sh", "old", 0o750)
	testutil.WriteFile(t, d+"/target.txt", "old target", 0o600)
	testutil.Symlink(t, "target.txt", d+"/link.txt")
	testutil.Symlink(t, "created-through-link.txt", d+"/dangling")
	if err := os.Mkdir(d+"/dir", 0o755); err != nil {
		t.Fatal(err)
	}
	L := newLeafState(t, d)
	runLeafCases(t, L, []leafCase{
		{name: "new file", src: `return haz.fs.write(D.."/new.txt", "a\0b")`, want: "true"},
		{name: "number data", src: `return haz.fs.write(D.."/num.txt", 42)`, want: "true"},
		{name: "keeps mode", src: `return haz.fs.write(D.."/exec.sh", "#!/bin/sh\n")`, want: "true"},
		{name: "through symlink", src: `return haz.fs.write(D.."/link.txt", "new target")`, want: "true"},
		{name: "through dangling symlink", src: `return haz.fs.write(D.."/dangling", "made")`, want: "true"},
		{name: "onto directory", src: `return haz.fs.write(D.."/dir", "x")`, want: `nil, "haz.fs.write: write ` + d + `/dir: is a directory"`},
		{name: "missing parent", src: `return haz.fs.write(D.."/no/such/f", "x")`, want: `nil, "haz.fs.write: write ` + d + `/no/such/f: no such file or directory"`},
		{name: "missing data", src: `return haz.fs.write(D.."/x")`, wantErr: "test.lua:1: haz.fs.write: bad argument #2 (string expected, got nil)"},
		{name: "table data", src: "\nreturn haz.fs.write(D..'/x', {})", wantErr: "test.lua:2: haz.fs.write: bad argument #2 (string expected, got table)"},
	})
	checks := []struct {
		path, data string
		mode       fs.FileMode
	}{
		{"new.txt", "a\x00b", 0o644 &^ umask},
		{"num.txt", "42", 0o644 &^ umask},
		{"exec.sh", "#!/bin/sh\n", 0o750},
		{"target.txt", "new target", 0o600},
		{"created-through-link.txt", "made", 0o644 &^ umask},
	}
	for _, c := range checks {
		b, err := os.ReadFile(filepath.Join(d, c.path))
		if err != nil || string(b) != c.data {
			t.Errorf("%s: got %q, %v; want %q", c.path, b, err, c.data)
		}
		if m := leafMode(t, filepath.Join(d, c.path)); m != c.mode {
			t.Errorf("%s: mode %v, want %v", c.path, m, c.mode)
		}
	}
	if fi, err := os.Lstat(d + "/link.txt"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("link.txt is no longer a symlink: %v, %v", fi, err)
	}
	for _, name := range leafNames(t, d) {
		if strings.Contains(name, ".haz-tmp-") {
			t.Errorf("temporary file left behind: %s", name)
		}
	}
}

func TestLeafFSMkdirRemove(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	outside := t.TempDir()
	testutil.WriteFile(t, outside+"/precious.txt", "keep me", 0o644)
	testutil.WriteFile(t, d+"/tree/a/b.txt", "b", 0o644)
	testutil.WriteFile(t, d+"/file.txt", "f", 0o644)
	testutil.Symlink(t, outside, d+"/tree/a/escape")
	testutil.Symlink(t, outside, d+"/linkdir")
	testutil.Symlink(t, outside, d+"/linkslash")
	if err := os.Mkdir(d+"/emptydir", 0o755); err != nil {
		t.Fatal(err)
	}
	L := newLeafState(t, d)
	runLeafCases(t, L, []leafCase{
		{name: "mkdir parents", src: `return haz.fs.mkdir(D.."/m/n/o"), haz.fs.isdir(D.."/m/n/o")`, want: "true, true"},
		{name: "mkdir existing", src: `return haz.fs.mkdir(D.."/m")`, want: "true"},
		{name: "mkdir over file", src: `return haz.fs.mkdir(D.."/file.txt/x")`, want: `nil, "haz.fs.mkdir: mkdir ` + d + `/file.txt: not a directory"`},
		{name: "mkdir bad arg", src: `return haz.fs.mkdir()`, wantErr: "test.lua:1: haz.fs.mkdir: bad argument #1"},
		{name: "remove missing", src: `return haz.fs.remove(D.."/missing")`, want: "true"},
		{name: "remove missing recursive", src: `return haz.fs.remove(D.."/missing/x", {recursive = true})`, want: "true"},
		{name: "remove file", src: `return haz.fs.remove(D.."/file.txt"), haz.fs.exists(D.."/file.txt")`, want: "true, false"},
		{name: "remove dir needs recursive", src: `return haz.fs.remove(D.."/tree")`,
			want: `nil, "haz.fs.remove: remove ` + d + `/tree: is a directory (pass {recursive = true})"`},
		{name: "remove empty dir needs recursive", src: `return haz.fs.remove(D.."/emptydir", {recursive = false})`,
			want: `nil, "haz.fs.remove: remove ` + d + `/emptydir: is a directory (pass {recursive = true})"`},
		{name: "remove symlink to dir removes the link", src: `return haz.fs.remove(D.."/linkdir"), haz.fs.exists(D.."/linkdir")`, want: "true, false"},
		{name: "remove link/ recursive removes the link", src: `return haz.fs.remove(D.."/linkslash/", {recursive = true}), haz.fs.exists(D.."/linkslash")`, want: "true, false"},
		{name: "remove tree with symlink out", src: `return haz.fs.remove(D.."/tree", {recursive = true}), haz.fs.exists(D.."/tree")`, want: "true, false"},
		{name: "remove root refused", src: `return haz.fs.remove("/")`, want: `nil, "haz.fs.remove: remove /: refusing to remove the root directory"`},
		{name: "remove dot refused", src: `return haz.fs.remove(D.."/m/..", {recursive = true})`, want: `nil, "haz.fs.remove: remove ` + d + `/m/..: refusing to remove \".\" or \"..\""`},
		{name: "unknown option", src: "\nhaz.fs.remove(D..'/m', {recursve = true})", wantErr: `test.lua:2: haz.fs.remove: unknown key "recursve" (did you mean "recursive"?; valid keys: recursive)`},
		{name: "list option", src: `haz.fs.remove(D..'/m', {true})`, wantErr: `test.lua:1: haz.fs.remove: unknown key [1] (valid keys: recursive)`},
		{name: "option not boolean", src: `haz.fs.remove(D..'/m', {recursive = "yes"})`, wantErr: `test.lua:1: haz.fs.remove: recursive must be a boolean, not a string`},
		{name: "options not table", src: `haz.fs.remove(D..'/m', true)`, wantErr: `test.lua:1: haz.fs.remove: bad argument #2 (options table expected, got boolean)`},
		{name: "dir survived misuse", src: `return haz.fs.isdir(D.."/m/n")`, want: "true"},
	})
	if b, err := os.ReadFile(outside + "/precious.txt"); err != nil || string(b) != "keep me" {
		t.Fatalf("symlink target's contents lost: %q, %v", b, err)
	}
}

func TestLeafFSCopy(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	data := strings.Repeat("x\x00y", 100000)
	testutil.WriteFile(t, d+"/src.bin", data, 0o750)
	testutil.WriteFile(t, d+"/dst-existing", "old", 0o600)
	testutil.Symlink(t, "src.bin", d+"/srclink")
	if err := os.Mkdir(d+"/dir", 0o755); err != nil {
		t.Fatal(err)
	}
	L := newLeafState(t, d)
	runLeafCases(t, L, []leafCase{
		{name: "copy", src: `return haz.fs.copy(D.."/src.bin", D.."/dst.bin")`, want: "true"},
		{name: "copy over existing", src: `return haz.fs.copy(D.."/src.bin", D.."/dst-existing")`, want: "true"},
		{name: "copy from symlink", src: `return haz.fs.copy(D.."/srclink", D.."/dst-from-link")`, want: "true"},
		{name: "missing source", src: `return haz.fs.copy(D.."/missing", D.."/x")`, want: `nil, "haz.fs.copy: open ` + d + `/missing: no such file or directory"`},
		{name: "directory source", src: `return haz.fs.copy(D.."/dir", D.."/x")`, want: `nil, "haz.fs.copy: copy ` + d + `/dir: is a directory"`},
		{name: "directory destination", src: `return haz.fs.copy(D.."/src.bin", D.."/dir")`, want: `nil, "haz.fs.copy: write ` + d + `/dir: is a directory"`},
		{name: "missing destination dir", src: `return haz.fs.copy(D.."/src.bin", D.."/no/x")`, want: `nil, "haz.fs.copy: write ` + d + `/no/x: no such file or directory"`},
		{name: "bad arg", src: `return haz.fs.copy(D.."/src.bin")`, wantErr: "test.lua:1: haz.fs.copy: bad argument #2 (string expected, got nil)"},
	})
	for _, name := range []string{"dst.bin", "dst-existing", "dst-from-link"} {
		b, err := os.ReadFile(filepath.Join(d, name))
		if err != nil || string(b) != data {
			t.Errorf("%s: %d bytes, %v; want the source's %d", name, len(b), err, len(data))
		}
		if m := leafMode(t, filepath.Join(d, name)); m != 0o750 {
			t.Errorf("%s: mode %v, want 0750", name, m)
		}
	}
	if fi, err := os.Lstat(d + "/x"); err == nil {
		t.Errorf("failed copy created x: %v", fi.Mode())
	}
}

func TestLeafPath(t *testing.T) {
	t.Parallel()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	L := newLeafState(t, "")
	runLeafCases(t, L, []leafCase{
		{name: "join", src: `return haz.path.join("a", "b", "../c", "d.txt")`, want: `"a/c/d.txt"`},
		{name: "join absolute", src: `return haz.path.join("/x/", "", "y")`, want: `"/x/y"`},
		{name: "join none", src: `return haz.path.join()`, want: `""`},
		{name: "join number", src: `return haz.path.join("v", 2)`, want: `"v/2"`},
		{name: "join bad", src: `return haz.path.join("a", nil, "b")`, wantErr: "test.lua:1: haz.path.join: bad argument #2 (string expected, got nil)"},
		{name: "base", src: `return haz.path.base("/src/app.tar.gz"), haz.path.base(""), haz.path.base("/")`, want: `"app.tar.gz", ".", "/"`},
		{name: "dir", src: `return haz.path.dir("/src/app.c"), haz.path.dir("app.c"), haz.path.dir("a/b/")`, want: `"/src", ".", "a/b"`},
		{name: "ext", src: `return haz.path.ext("app.tar.gz"), haz.path.ext("Makefile"), haz.path.ext(".bashrc")`, want: `".gz", "", ".bashrc"`},
		{name: "base bad", src: `return haz.path.base({})`, wantErr: "test.lua:1: haz.path.base: bad argument #1 (string expected, got table)"},
		{name: "abs", src: `return haz.path.abs("x/../y")`, want: strconv.Quote(filepath.Join(wd, "y"))},
		{name: "abs absolute", src: `return haz.path.abs("/a/./b")`, want: `"/a/b"`},
		{name: "rel", src: `return haz.path.rel("/a", "/a/b/c"), haz.path.rel("a/b", "a/c")`, want: `"b/c", "../c"`},
		{name: "rel fails", src: `return haz.path.rel("a", "/b")`, want: `nil, "haz.path.rel: can't make /b relative to a"`},
		{name: "rel bad", src: `return haz.path.rel("a")`, wantErr: "test.lua:1: haz.path.rel: bad argument #2 (string expected, got nil)"},
	})
}

// TestLeafGlob checks the haz.glob binding: its arguments, the table it
// returns, and how it raises. The matching itself is tested in
// internal/glob. It changes directory, so it is not parallel.
func TestLeafGlob(t *testing.T) {
	d := t.TempDir()
	for _, f := range []string{"README.md", "src/a.c", "src/b.h", "src/.f.c"} {
		testutil.WriteFile(t, filepath.Join(d, f), f, 0o644)
	}
	t.Chdir(d)
	L := newLeafState(t, d)
	runLeafCases(t, L, []leafCase{
		{name: "star", src: `return haz.glob("src/*")`, want: `{"src/a.c", "src/b.h"}`},
		{name: "sorted and deduplicated across arguments", src: `return haz.glob("src/b.h", "src/*.c", "**/a.c", "src/a.c")`, want: `{"src/a.c", "src/b.h"}`},
		{name: "list argument", src: `return haz.glob({"README.md", "src/b.h"}, "src/a.c")`, want: `{"README.md", "src/a.c", "src/b.h"}`},
		{name: "number argument", src: `return haz.glob(1)`, want: `{}`},
		{name: "absolute", src: `return haz.glob(D.."/src/*.h")`, want: `{"` + d + `/src/b.h"}`},
		{name: "no match", src: `return haz.glob("nothing/*", "none")`, want: `{}`},
		{name: "no patterns", src: `return haz.glob()`, want: `{}`},
		{name: "bad class", src: "\n\nhaz.glob('src/[a')", wantErr: `test.lua:3: haz.glob: bad pattern "src/[a": malformed character class`},
		{name: "bad pattern in a list", src: `haz.glob({"a", "{b"})`, wantErr: `test.lua:1: haz.glob: bad pattern "{b": unmatched "{"`},
		{name: "empty pattern", src: `haz.glob("")`, wantErr: `test.lua:1: haz.glob: bad pattern "": empty pattern`},
		{name: "bad argument", src: `haz.glob("a", true)`, wantErr: `test.lua:1: haz.glob: bad argument #2 (string expected, got boolean)`},
		{name: "table with other keys", src: `haz.glob({"a", dir = "src"})`, wantErr: `test.lua:1: haz.glob: bad argument #1 (a list of patterns expected, got a table with other keys)`},
		{name: "bad list element", src: `haz.glob({"a", {}})`, wantErr: `test.lua:1: haz.glob: bad argument #1 (element 2: string expected, got table)`},
	})
}

func TestLeafJSON(t *testing.T) {
	t.Parallel()
	L := newLeafState(t, "")
	runLeafCases(t, L, []leafCase{
		{name: "object keys sorted", src: `return haz.json.encode({zeta = 1, alpha = 2, mid = {b = true, a = false}})`, want: `"{\"alpha\":2,\"mid\":{\"a\":false,\"b\":true},\"zeta\":1}"`},
		{name: "array", src: `return haz.json.encode({1, "two", {3}})`, want: `"[1,\"two\",[3]]"`},
		{name: "empty table", src: `return haz.json.encode({})`, want: `"[]"`},
		{name: "holes make an object", src: `return haz.json.encode({[1] = "a", [3] = "c"})`, want: `"{\"1\":\"a\",\"3\":\"c\"}"`},
		{name: "mixed keys", src: `return haz.json.encode({10, 20, x = 1})`, want: `"{\"1\":10,\"2\":20,\"x\":1}"`},
		{name: "float and negative keys", src: `return haz.json.encode({[1.5] = 1, [-2] = 2, [0] = 3})`, want: `"{\"-2\":2,\"0\":3,\"1.5\":1}"`},
		{name: "null", src: `return haz.json.encode({1, haz.json.null, 3}), haz.json.encode(haz.json.null), haz.json.encode(nil)`, want: `"[1,null,3]", "null", "null"`},
		{name: "scalars", src: `return haz.json.encode(true), haz.json.encode("s"), haz.json.encode(42)`, want: `"true", "\"s\"", "42"`},
		{name: "numbers", src: `return haz.json.encode({0.1, -0.0, 1e21, 1e-7, 2^53, 123456789012, 1/3})`,
			want: `"[0.1,-0,1e+21,1e-7,9007199254740992,123456789012,0.3333333333333333]"`},
		{name: "string escapes", src: `return haz.json.encode("q\"b\\n\n\t\r\1\31<&>\127é\226\128\168")`,
			want: strconv.Quote(`"q\"b\\n\n\t\r\u0001\u001f<&>` + "\x7fé" + `\u2028"`)},
		{name: "indent", src: `return haz.json.encode({a = {1, 2}, b = {}}, {indent = 2})`, want: strconv.Quote("{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": []\n}")},
		{name: "indent tab", src: `return haz.json.encode({1}, {indent = "\t"})`, want: strconv.Quote("[\n\t1\n]")},
		{name: "shared subtable is fine", src: `local s = {1} return haz.json.encode({a = s, b = s})`, want: `"{\"a\":[1],\"b\":[1]}"`},
		{name: "NaN", src: "\nreturn haz.json.encode({x = {1, 0/0}})", wantErr: `test.lua:2: haz.json.encode: cannot encode NaN (at .x[2])`},
		{name: "Inf", src: `return haz.json.encode(1/0)`, wantErr: `test.lua:1: haz.json.encode: cannot encode +Inf`},
		{name: "-Inf", src: `return haz.json.encode({["a b"] = -1/0})`, wantErr: `test.lua:1: haz.json.encode: cannot encode -Inf (at ["a b"])`},
		{name: "math.huge is finite in gopher-lua", src: `return haz.json.encode(math.huge)`, want: `"1.7976931348623157e+308"`},
		{name: "cycle", src: `local t = {} t.self = t return haz.json.encode(t)`, wantErr: `test.lua:1: haz.json.encode: cannot encode a table that contains itself (at .self)`},
		{name: "indirect cycle", src: `local a, b = {}, {} a[1] = b b.back = a return haz.json.encode(a)`, wantErr: `test.lua:1: haz.json.encode: cannot encode a table that contains itself (at [1].back)`},
		{name: "function value", src: `return haz.json.encode({f = print})`, wantErr: `test.lua:1: haz.json.encode: cannot encode a function (at .f)`},
		{name: "boolean key", src: `return haz.json.encode({[true] = 1})`, wantErr: `test.lua:1: haz.json.encode: cannot encode a boolean key`},
		{name: "colliding keys", src: `return haz.json.encode({[1] = "a", ["1"] = "b"})`, wantErr: `test.lua:1: haz.json.encode: cannot encode two keys that both become "1"`},
		{name: "invalid UTF-8", src: `return haz.json.encode({"\255"})`, wantErr: `test.lua:1: haz.json.encode: cannot encode a string that is not valid UTF-8 (at [1])`},
		{name: "too deep", src: `local t = {} local c = t for i = 1, 20000 do c[1] = {} c = c[1] end return haz.json.encode(t)`, wantErr: `test.lua:1: haz.json.encode: cannot encode tables nested more than 10000 deep`},
		{name: "unknown option", src: `return haz.json.encode({}, {indnet = 2})`, wantErr: `test.lua:1: haz.json.encode: unknown key "indnet" (did you mean "indent"?; valid keys: indent)`},
		{name: "bad indent", src: `return haz.json.encode({}, {indent = "xx"})`, wantErr: `test.lua:1: haz.json.encode: indent must be an integer from 0 to 16 or a string of spaces and tabs, not "xx"`},
		{name: "indent too large", src: `return haz.json.encode({}, {indent = 17})`, wantErr: `test.lua:1: haz.json.encode: indent must be an integer from 0 to 16 or a string of spaces and tabs, not 17`},
		{name: "indent a boolean", src: `return haz.json.encode({}, {indent = true})`, wantErr: `test.lua:1: haz.json.encode: indent must be a number or a string, not a boolean`},
		{name: "options not a table", src: `return haz.json.encode({}, 2)`, wantErr: `test.lua:1: haz.json.encode: bad argument #2 (options table expected, got number)`},
		{name: "decode", src: `local v = haz.json.decode([[{"a": [1, null, {"b": true}], "c": "x\u00e9", "n": -1.5e3}]]) return v`,
			want: `{a={1, null, {b=true}}, c="xé", n=-1500}`},
		{name: "decode null is the sentinel", src: `local v = haz.json.decode('[null]') return v[1] == haz.json.null, #v, haz.json.decode("null") == haz.json.null`, want: "true, 1, true"},
		{name: "decode scalars", src: `return haz.json.decode("12"), haz.json.decode('"s"'), haz.json.decode(" false ")`, want: `12, "s", false`},
		{name: "decode bad", src: `return haz.json.decode('{"a": }')`, want: `nil, "haz.json.decode: invalid character '}' looking for beginning of value (at offset 7)"`},
		{name: "decode truncated", src: `return haz.json.decode('[1, 2')`, want: `nil, "haz.json.decode: unexpected end of JSON input (at offset 5)"`},
		{name: "decode trailing", src: `return haz.json.decode('[1] [2]')`, want: `nil, "haz.json.decode: invalid character '[' after top-level value (at offset 5)"`},
		{name: "decode empty", src: `return haz.json.decode('')`, want: `nil, "haz.json.decode: unexpected end of JSON input (at offset 0)"`},
		{name: "decode out of range", src: `return haz.json.decode('[1e400]')`, want: `nil, "haz.json.decode: number 1e400 is out of range (at offset 7)"`},
		{name: "decode bad arg", src: `return haz.json.decode({})`, wantErr: `test.lua:1: haz.json.decode: bad argument #1 (string expected, got table)`},
		{name: "null tostring", src: `return tostring(haz.json.null)`, want: `"haz.json.null"`},
	})
}

// TestLeafJSONRoundTrip checks decode(encode(v)) == v and that encoding
// canonical JSON gives it back byte for byte.
func TestLeafJSONRoundTrip(t *testing.T) {
	t.Parallel()
	L := newLeafState(t, "")
	for _, s := range []string{
		`[]`, `[1,2,3]`, `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`,
		`[null,null]`, `"multi\nline \"quoted\" \\ é \u2028"`, `-0.5`, `1e+21`,
		`{"1":"one","2":"two","x":[{"y":[[[]]]}]}`, `{"":"empty key"}`,
	} {
		t.Run(s, func(t *testing.T) {
			L.SetGlobal("S", lua.LString(s))
			got, err := evalLua(t, L, `return haz.json.encode(haz.json.decode(S))`)
			if err != nil || got != strconv.Quote(s) {
				t.Fatalf("got %s, %v; want %q", got, err, s)
			}
		})
	}
	t.Run("deterministic", func(t *testing.T) {
		got, err := evalLua(t, L, `
			local t = {}
			for i = 1, 500 do t["k" .. i] = {i, tostring(i), {v = i / 7}} end
			local first = haz.json.encode(t)
			for _ = 1, 20 do
				local again = {}
				for k, v in pairs(t) do again[k] = v end
				if haz.json.encode(again) ~= first then return false end
			end
			local back = haz.json.decode(first)
			return haz.json.encode(back) == first and back.k7[3].v == 1`)
		if err != nil || got != "true" {
			t.Fatalf("got %s, %v", got, err)
		}
	})
}

// TestLeafEnv changes the process environment (t.Setenv), so it is not
// parallel.
func TestLeafEnv(t *testing.T) {
	t.Setenv("HAZLEAF_SET", "preset")
	t.Setenv("HAZLEAF_EMPTY", "")
	for _, k := range []string{"HAZLEAF_A", "HAZLEAF_N", "HAZLEAF_GONE", "HAZLEAF_OFF"} {
		t.Setenv(k, "") // registers the restore
		os.Unsetenv(k)
	}
	t.Setenv("HAZLEAF_GONE", "here")
	t.Setenv("HAZLEAF_OFF", "here")
	L := newLeafState(t, "")
	runLeafCases(t, L, []leafCase{
		{name: "read", src: `return haz.env.HAZLEAF_SET, os.getenv("HAZLEAF_SET")`, want: `"preset", "preset"`},
		{name: "read unset", src: `return haz.env.HAZLEAF_A`, want: "nil"},
		{name: "read empty", src: `return haz.env.HAZLEAF_EMPTY`, want: `""`},
		{name: "set", src: `haz.env.HAZLEAF_A = "v 1" return haz.env.HAZLEAF_A, os.getenv("HAZLEAF_A")`, want: `"v 1", "v 1"`},
		{name: "set number", src: `haz.env.HAZLEAF_N = 8 haz.env.HAZLEAF_N = haz.env.HAZLEAF_N * 1.5 return haz.env.HAZLEAF_N`, want: `"12"`},
		{name: "unset nil", src: `haz.env.HAZLEAF_GONE = nil return haz.env.HAZLEAF_GONE, os.getenv("HAZLEAF_GONE")`, want: "nil, nil"},
		{name: "unset false", src: `haz.env["HAZLEAF_OFF"] = false return haz.env.HAZLEAF_OFF`, want: "nil"},
		{name: "snapshot", src: `local e = haz.env() return e.HAZLEAF_SET, e.HAZLEAF_A, e.HAZLEAF_GONE, type(e)`, want: `"preset", "v 1", nil, "table"`},
		{name: "snapshot is a copy", src: `local e = haz.env() e.HAZLEAF_SET = "changed" return haz.env.HAZLEAF_SET`, want: `"preset"`},
		{name: "pairs over snapshot", src: `local n = 0 for k, v in pairs(haz.env()) do if k == "HAZLEAF_SET" then n = n + 1 end end return n`, want: "1"},
		{name: "protected metatable", src: `return getmetatable(haz.env)`, want: `"haz.env"`},
		{name: "empty name", src: "\nreturn haz.env['']", wantErr: `test.lua:2: haz.env: invalid variable name ""`},
		{name: "= in name", src: "\n\nhaz.env['A=B'] = 'x'", wantErr: `test.lua:3: haz.env: invalid variable name "A=B"`},
		{name: "NUL in name", src: `return haz.env["A\0B"]`, wantErr: `test.lua:1: haz.env: invalid variable name "A\x00B"`},
		{name: "number name", src: `return haz.env[1]`, wantErr: `test.lua:1: haz.env: variable name must be a string, got number`},
		{name: "table value", src: `haz.env.HAZLEAF_A = {}`, wantErr: `test.lua:1: haz.env: value for "HAZLEAF_A" must be a string or a number (nil or false unsets), got table`},
		{name: "true value", src: `haz.env.HAZLEAF_A = true`, wantErr: `test.lua:1: haz.env: value for "HAZLEAF_A" must be a string or a number (nil or false unsets), got true`},
		{name: "NUL in value", src: `haz.env.HAZLEAF_A = "a\0b"`, wantErr: `test.lua:1: haz.env: value for "HAZLEAF_A" contains a NUL byte`},
		{name: "value unchanged after errors", src: `return haz.env.HAZLEAF_A`, want: `"v 1"`},
		{name: "error inside pcall", src: `return pcall(function() haz.env[''] = 1 end)`, want: `false, "test.lua:1: haz.env: invalid variable name \"\""`},
	})
	if v, ok := os.LookupEnv("HAZLEAF_A"); !ok || v != "v 1" {
		t.Errorf("os.LookupEnv(HAZLEAF_A) = %q, %v", v, ok)
	}
	if _, ok := os.LookupEnv("HAZLEAF_GONE"); ok {
		t.Error("HAZLEAF_GONE still set")
	}

	t.Run("__pairs", func(t *testing.T) {
		env := L.GetGlobal("haz").(*lua.LTable).RawGetString("env")
		if err := L.CallByParam(lua.P{Fn: L.GetMetaField(env, "__pairs"), NRet: 3}, env); err != nil {
			t.Fatal(err)
		}
		next, snap := L.Get(-3), L.Get(-2)
		L.Pop(3)
		found := false
		for k := lua.LValue(lua.LNil); ; {
			if err := L.CallByParam(lua.P{Fn: next, NRet: 2}, snap, k); err != nil {
				t.Fatal(err)
			}
			key, val := L.Get(-2), L.Get(-1)
			L.Pop(2)
			if key == lua.LNil {
				break
			}
			found = found || key.String() == "HAZLEAF_SET" && val.String() == "preset"
			k = key
		}
		if !found {
			t.Error("__pairs did not yield HAZLEAF_SET")
		}
	})

	t.Run("luaOSGetenv", func(t *testing.T) {
		L.SetGlobal("getenv", L.NewFunction(luaOSGetenv))
		got, err := evalLua(t, L, `return getenv("HAZLEAF_EMPTY"), getenv("HAZLEAF_SET"), getenv("HAZLEAF_GONE")`)
		if err != nil || got != `"", "preset", nil` {
			t.Fatalf("got %s, %v", got, err)
		}
	})
}

// TestLeafEnvLoad: haz.env.load of a dotenv file, with go-envparse's
// syntax; errors name the file's line.
func TestLeafEnvLoad(t *testing.T) {
	dir := t.TempDir()
	for _, k := range []string{"HAZDOT_A", "HAZDOT_B", "HAZDOT_C", "HAZDOT_SET", "load"} {
		t.Setenv(k, "") // registers the restore
		os.Unsetenv(k)
	}
	t.Setenv("HAZDOT_SET", "kept")
	t.Setenv("load", "a variable named load")
	files := map[string]string{
		".env":      "# a comment\nHAZDOT_A=1\nexport HAZDOT_B=\"two words\\n\"\n\nHAZDOT_C='$HAZDOT_A'\nHAZDOT_SET=from file\n",
		"bad.env":   "HAZDOT_A=1\n\nNOT A LINE\n",
		"quote.env": "HAZDOT_A=\"unterminated\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	L := newLeafState(t, dir)
	runLeafCases(t, L, []leafCase{
		{name: "missing", src: `return haz.env.load(D .. "/missing.env")`, want: `nil, "haz.env.load: open ` + dir + `/missing.env: no such file or directory"`},
		{name: "a directory", src: `return haz.env.load(D)`, want: `nil, "haz.env.load: read ` + dir + `: is a directory"`},
		{name: "load", src: `local v = haz.env.load(D .. "/.env") return v, haz.env.HAZDOT_A, haz.env.HAZDOT_B, haz.env.HAZDOT_C`,
			want: `{HAZDOT_A="1", HAZDOT_B="two words\n", HAZDOT_C="$HAZDOT_A", HAZDOT_SET="from file"}, "1", "two words\n", "$HAZDOT_A"`},
		{name: "set variables are kept", src: `return haz.env.HAZDOT_SET`, want: `"kept"`},
		{name: "override", src: `haz.env.load(D .. "/.env", {override = true}) return haz.env.HAZDOT_SET`, want: `"from file"`},
		{name: "bad line", src: "\nhaz.env.load(D .. '/bad.env')", wantErr: "test.lua:2: haz.env.load: " + dir + "/bad.env:3: "},
		{name: "unterminated quote", src: `haz.env.load(D .. "/quote.env")`, wantErr: "test.lua:1: haz.env.load: " + dir + "/quote.env:1: "},
		{name: "bad option", src: `haz.env.load(D .. "/.env", {overide = true})`, wantErr: "test.lua:1: haz.env.load: "},
		{name: "a variable named load", src: `return type(haz.env.load), os.getenv("load"), haz.env().load`, want: `"function", "a variable named load", "a variable named load"`},
	})
}

// TestLeafWhich sets PATH and changes directory, so it is not parallel.
func TestLeafWhich(t *testing.T) {
	d := t.TempDir()
	testutil.WriteFile(t, d+"/bin/hazleaf-tool", "#!/bin/sh\n", 0o755)
	testutil.WriteFile(t, d+"/bin/hazleaf-noexec", "data", 0o644)
	if err := os.Mkdir(d+"/bin/hazleaf-dir", 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", os.Getenv("PATH"))
	t.Chdir(d + "/bin")
	L := newLeafState(t, d)
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh in PATH")
	}
	runLeafCases(t, L, []leafCase{
		{name: "not yet in PATH", src: `return haz.which("hazleaf-tool")`, want: "nil"},
		{name: "PATH from haz.env", src: `haz.env.PATH = D.."/bin:"..haz.env.PATH return haz.which("hazleaf-tool")`, want: strconv.Quote(d + "/bin/hazleaf-tool")},
		{name: "not executable", src: `return haz.which("hazleaf-noexec")`, want: "nil"},
		{name: "directory", src: `return haz.which("hazleaf-dir")`, want: "nil"},
		{name: "missing", src: `return haz.which("hazleaf-no-such-program")`, want: "nil"},
		{name: "empty", src: `return haz.which("")`, want: "nil"},
		{name: "system program", src: `return haz.which("sh")`, want: strconv.Quote(sh)},
		{name: "path with slash", src: `return haz.which(D.."/bin/../bin/hazleaf-tool")`, want: strconv.Quote(d + "/bin/hazleaf-tool")},
		// A match through a relative PATH entry is refused, as haz.spawn
		// refuses it: the working directory is D/bin from here on.
		{name: "dot entry", src: `haz.env.PATH = ".:"..haz.env.PATH return haz.which("hazleaf-tool")`, want: "nil"},
		{name: "empty entry", src: `haz.env.PATH = ":"..haz.env.PATH return haz.which("hazleaf-tool")`, want: "nil"},
		{name: "empty entry at the end", src: `haz.env.PATH = "/nonexistent:" return haz.which("hazleaf-tool")`, want: "nil"},
		{name: "relative entry after an absolute match", src: `haz.env.PATH = D.."/bin:." return haz.which("hazleaf-tool")`, want: strconv.Quote(d + "/bin/hazleaf-tool")},
		{name: "relative path with slash", src: `return haz.which("./hazleaf-tool")`, want: strconv.Quote(d + "/bin/hazleaf-tool")},
		{name: "bad arg", src: `return haz.which()`, wantErr: "test.lua:1: haz.which: bad argument #1 (string expected, got nil)"},
	})
}

// TestLeafNoPanics calls every leaf function with arguments of every type:
// each call must return or raise a Lua error, never let a Go panic out.
func TestLeafNoPanics(t *testing.T) {
	d := t.TempDir()
	t.Chdir(d)
	L := newLeafState(t, d)
	_, err := evalLua(t, L, `
		ARGS = {nil, true, 0, -1, 0/0, math.huge, "", "x", "\0", "[", "{", "**", "a/.", "\255",
			{}, {1, 2}, {recursive = true}, {x = 1}, print, coroutine.create(print), haz.json.null}
		N = 22`)
	if err != nil {
		t.Fatal(err)
	}
	fns := []string{
		"haz.fs.exists", "haz.fs.isdir", "haz.fs.read", "haz.fs.mkdir", "haz.fs.mtime",
		"haz.fs.write", "haz.fs.copy", "haz.fs.remove",
		"haz.path.join", "haz.path.base", "haz.path.dir", "haz.path.ext", "haz.path.abs", "haz.path.rel",
		"haz.glob", "haz.json.encode", "haz.json.decode", "haz.which", "haz.env",
	}
	for _, fn := range fns {
		t.Run(fn, func(t *testing.T) {
			// Two arguments cover (path, data), (src, dst), (path, opts)
			// and (value, opts); errors are expected, panics are not.
			_, err := evalLua(t, L, `
				for i = 1, N do
					for j = 1, N do
						pcall(`+fn+`, ARGS[i], ARGS[j])
					end
				end
				for i = 1, N do
					pcall(function() return haz.env[ARGS[i]] end)
					pcall(function() haz.env.HAZLEAF_PANIC = ARGS[i] end)
				end`)
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	os.Unsetenv("HAZLEAF_PANIC")
}

// TestLeafMtimePrecision checks the float conversion keeps sub-second
// precision for current times.
func TestLeafMtimePrecision(t *testing.T) {
	t.Parallel()
	d := t.TempDir()
	testutil.WriteFile(t, d+"/f", "", 0o644)
	want := time.Unix(1900000000, 123456000)
	if err := os.Chtimes(d+"/f", want, want); err != nil {
		t.Fatal(err)
	}
	L := newLeafState(t, d)
	top := L.GetTop()
	if err := L.DoString(`return haz.fs.mtime(D.."/f")`); err != nil {
		t.Fatal(err)
	}
	got := float64(L.Get(top + 1).(lua.LNumber))
	if diff := math.Abs(got - 1900000000.123456); diff > 1e-6 {
		t.Errorf("mtime %f, off by %g", got, diff)
	}
}

func TestLeafHash(t *testing.T) {
	d := t.TempDir()
	testutil.WriteFile(t, filepath.Join(d, "a.txt"), "hello\n", 0o644)
	L := newLeafState(t, d)
	// sha256sum of "hello\n" and of "".
	const hello = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
	const empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	runLeafCases(t, L, []leafCase{
		{src: `return haz.hash.file(D.."/a.txt")`, want: `"` + hello + `"`},
		{src: `return haz.hash.string("hello\n")`, want: `"` + hello + `"`},
		{src: `return haz.hash.string("")`, want: `"` + empty + `"`},
		{src: `return haz.hash.string(12)`, want: `"` + fmt.Sprintf("%x", sha256.Sum256([]byte("12"))) + `"`},
		{src: `return haz.hash.file(D.."/missing")`, want: `nil, "haz.hash.file: open ` + d + `/missing: no such file or directory"`},
		{src: `return haz.hash.file(D)`, want: `nil, "haz.hash.file: read ` + d + `: is a directory"`},
		{src: `return haz.hash.file()`, wantErr: `test.lua:1: haz.hash.file: bad argument #1 (string expected, got nil)`},
	})
}
