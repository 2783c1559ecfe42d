-- Program lookup: haz.spawn and haz.which find programs the same way
-- (proc.LookPath), and refuse a program found through a relative PATH
-- entry ("." or "" or "bin"), as Go's os/exec does (exec.ErrDot).

--- "." in PATH: haz.which says nil and haz.spawn refuses
haz.fs.write("tool", "#!/bin/sh\necho ran tool\n")
haz.run{"chmod", "+x", "tool"}
haz.env.PATH = ".:" .. haz.env.PATH
print(haz.which("tool")) -- want: nil
print(haz.which("./tool") == haz.path.abs("tool")) -- want: true
print(haz.output{"./tool"}) -- want: ran tool
haz.spawn{"tool"} -- error: ^haz\.spawn: program "tool" found in the relative PATH entry "\." \(refused, as in Go's os/exec\): use "\./tool"$

--- an empty PATH entry is the working directory: refused too
haz.fs.write("tool", "#!/bin/sh\necho ran tool\n")
haz.run{"chmod", "+x", "tool"}
haz.env.PATH = haz.env.PATH .. ":"
print(haz.which("tool")) -- want: nil
haz.run{"tool"} -- error: ^haz\.run: program "tool" found in the relative PATH entry "" \(refused, as in Go's os/exec\): use "\./tool"$

--- the first match decides: a relative entry after an absolute match is harmless
haz.fs.mkdir("bin")
haz.fs.write("bin/tool", "#!/bin/sh\necho ran bin/tool\n")
haz.fs.write("tool", "#!/bin/sh\necho ran ./tool\n")
haz.run{"chmod", "+x", "tool", "bin/tool"}
local bin = haz.path.abs("bin")
haz.env.PATH = bin .. ":."
print(haz.which("tool") == bin .. "/tool") -- want: true
print(haz.output{"tool"}) -- want: ran bin/tool
haz.env.PATH = ".:" .. bin
print(haz.which("tool")) -- want: nil
haz.output{"tool"} -- error: ^haz\.output: program "tool" found in the relative PATH entry "\." \(refused, as in Go's os/exec\): use "\./tool"$

--- the child's PATH and cwd: a relative entry is looked up below cwd
haz.fs.mkdir("sub/bin")
haz.fs.write("sub/bin/tool", "#!/bin/sh\necho ran sub/bin/tool\n")
haz.run{"chmod", "+x", "sub/bin/tool"}
print(haz.output{"bin/tool", cwd = "sub"}) -- want: ran sub/bin/tool
haz.spawn{"tool", cwd = "sub", env = {PATH = "bin"}} -- error: ^haz\.spawn: program "tool" found in the relative PATH entry "bin" \(refused, as in Go's os/exec\): use "bin/tool"$

--- a relative entry without a match is skipped
haz.env.PATH = "nothing-here:" .. haz.env.PATH
print(haz.which("sh") ~= nil, haz.output{"sh", "-c", "echo ok"}) -- want: true	ok
