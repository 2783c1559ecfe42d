package testutil

import (
	"fmt"
	"strings"
)

// LuaString renders s as a Lua string literal that reads back as exactly
// the bytes of s: printable ASCII as is, every other byte as \ddd (always
// three digits, so a following digit is not taken in).
func LuaString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "\\%03d", c)
	}
	b.WriteByte('"')
	return b.String()
}
