-- Facts about the run (SPEC S2, S3, S8): haz.root, haz.invocation_dir,
-- haz.args, haz.jobs, haz.os, haz.arch, and require("haz").

--- require haz
print(require("haz") == haz) -- want: true
local h = require "haz"
print(h.spawn == haz.spawn) -- want: true

--- haz is a global table
print(type(haz), type(_G.haz)) -- want: table	table

--- root is the script's directory, absolute, symlinks resolved
print(haz.root:sub(1, 1)) -- want: /
print(haz.root == haz.output{"pwd", "-P"}) -- want: true
print(haz.fs.exists(haz.root .. "/build.lua")) -- want: true

--- invocation_dir is where hazlua started
-- The tests start hazlua in the script's directory.
print(haz.invocation_dir == haz.output{"pwd", "-P"} or haz.invocation_dir == haz.output{"pwd", "-L"}) -- want: true

--- args
-- args: one two "three"
print(#haz.args, haz.args[1], haz.args[2], haz.args[3]) -- want: 3	one	two	"three"
print(arg[0], arg[1], #arg) -- want: build.lua	one	3

--- no args
print(type(haz.args), #haz.args, #arg) -- want: table	0	0

--- jobs
-- flags: -j3
print(haz.jobs) -- want: 3

--- jobs 0 means no cap
-- flags: -j 0
print(haz.jobs) -- want: 0

--- jobs defaults to the number of CPUs
print(haz.jobs == tonumber(haz.output{"nproc"})) -- want: true

--- os and arch
print(haz.os) -- want: linux
local machine = haz.output{"uname", "-m"}
local goarch = ({x86_64 = "amd64", aarch64 = "arm64", i686 = "386", riscv64 = "riscv64", ppc64le = "ppc64le", s390x = "s390x"})[machine]
print(haz.arch == goarch) -- want: true

--- version
print(type(haz.version)) -- want: string

--- a process's cwd defaults to the root
haz.fs.mkdir("sub")
print(haz.output{"pwd", "-P"} == haz.root) -- want: true
