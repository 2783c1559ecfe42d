package parse

// hazlua: the descent parser (descent.go) against the yacc parser it
// replaces (parser.go, from parser.go.y): the same syntax tree, node for
// node and line for line, or the same error at the same token, for
// gopher-lua's and Lua 5.1's test scripts, every prefix of them at many
// cuts, random mutations of them, random programs and deep nesting.

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// testScripts returns the Lua files of the test suites.
func testScripts(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for _, dir := range []string{"../_glua-tests", "../_lua5.1-tests"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.lua"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no test scripts in %s", dir)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, data)
		}
	}
	return out
}

// sameParse fails the test unless Parse and parseYacc agree on src.
func sameParse(t *testing.T, what string, src []byte) bool {
	t.Helper()
	got, gotErr := Parse(bytes.NewReader(src), "x.lua")
	want, wantErr := parseYacc(bytes.NewReader(src), "x.lua")
	if !reflect.DeepEqual(gotErr, wantErr) {
		t.Errorf("%s: error %v, the yacc parser's %v\nsource:\n%s", what, gotErr, wantErr, src)
		return false
	}
	if gotErr == nil && !reflect.DeepEqual(got, want) {
		t.Errorf("%s: the trees differ\ndescent:\n%s\nyacc:\n%s\nsource:\n%s", what, Dump(got), Dump(want), src)
		return false
	}
	return true
}

func TestDescentScripts(t *testing.T) {
	for i, data := range testScripts(t) {
		step := len(data)/40 + 1
		for cut := 0; cut < len(data); cut += step {
			sameParse(t, fmt.Sprintf("script %d[:%d]", i, cut), data[:cut])
		}
		sameParse(t, fmt.Sprintf("script %d", i), data)
	}
}

// snippets are what mutations insert.
var snippets = []string{"(", ")", ",", "=", " end ", " function ", " local ", ".", ":", "[", "]", "{", "}",
	"..", "...", `"s"`, "'q'", " 1 ", " x ", "\n", " return ", ";", "-", " not ", "#", "^", "==", " do ",
	" then ", " if ", " else ", " elseif ", " for ", " in ", " while ", " repeat ", " until ", " break ",
	"::", " goto ", "[[", "]]", "--", "\\", "~=", "<=", "+", "*", "%", " and ", " or ", " nil ", " true ",
	"(f())", "(x)", "f\n(", "0x", "1e", "\r", "@", "~"}

func TestDescentMutations(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i, data := range testScripts(t) {
		if len(data) > 20000 {
			data = data[:20000]
		}
		for k := 0; k < 100; k++ {
			src := append([]byte(nil), data...)
			for m := r.Intn(3) + 1; m > 0; m-- {
				pos := r.Intn(len(src) + 1)
				if r.Intn(3) == 0 {
					end := min(len(src), pos+r.Intn(6)+1)
					src = append(src[:pos:pos], src[end:]...)
				} else {
					s := snippets[r.Intn(len(snippets))]
					src = append(src[:pos:pos], append([]byte(s), src[pos:]...)...)
				}
			}
			if !sameParse(t, fmt.Sprintf("script %d, mutation %d", i, k), src) {
				return
			}
		}
	}
	for k := 0; k < 20000; k++ {
		var b bytes.Buffer
		for n := r.Intn(12); n > 0; n-- {
			b.WriteString(snippets[r.Intn(len(snippets))])
		}
		if !sameParse(t, fmt.Sprintf("soup %d", k), b.Bytes()) {
			return
		}
	}
}

func TestDescentGenerated(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for i := 0; i < 10000; i++ {
		g := &gen{r: r}
		g.block()
		src := []byte(g.b.String())
		if !sameParse(t, fmt.Sprint("program ", i), src) {
			return
		}
		if len(src) > 0 {
			pos := r.Intn(len(src))
			cut := append(append([]byte(nil), src[:pos]...), src[min(len(src), pos+r.Intn(4)+1):]...)
			if !sameParse(t, fmt.Sprint("cut program ", i), cut) {
				return
			}
		}
	}
}

// Past maxDescentDepth, Parse falls back to the yacc parser.
func TestDescentDeep(t *testing.T) {
	for _, n := range []int{10, maxDescentDepth / 2, maxDescentDepth - 1, maxDescentDepth, maxDescentDepth + 1, 3 * maxDescentDepth, 20000} {
		cases := map[string]string{
			"parens": "x = " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n),
			"tables": "x = " + strings.Repeat("{", n) + strings.Repeat("}", n),
			"unary":  "x = " + strings.Repeat("- ", n) + "1",
			"concat": "x = a" + strings.Repeat(" .. a", n),
			"pow":    "x = a" + strings.Repeat(" ^ a", n),
			"dos":    strings.Repeat("do ", n) + strings.Repeat("end ", n),
			"bad":    "x = " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n-1) + " end",
			"lexerr": "x = " + strings.Repeat("(", n) + "1 @",
		}
		if n <= 3*maxDescentDepth {
			cases["funcs"] = strings.Repeat("f(function() ", n) + strings.Repeat("end)", n)
		}
		for name, src := range cases {
			sameParse(t, fmt.Sprintf("%s %d", name, n), []byte(src))
		}
	}
}

// gen writes random programs, valid about half of the time.
type gen struct {
	r     *rand.Rand
	b     strings.Builder
	depth int
}

func (g *gen) ws() {
	switch g.r.Intn(6) {
	case 0:
		g.b.WriteString("\n")
	case 1:
		g.b.WriteString("  ")
	default:
		g.b.WriteString(" ")
	}
}

func (g *gen) w(s string) { g.b.WriteString(s); g.ws() }

var binops = []string{"or", "and", "<", ">", "<=", ">=", "==", "~=", "..", "+", "-", "*", "/", "%", "^"}
var unops = []string{"-", "not", "#"}

func (g *gen) expr() {
	g.depth++
	defer func() { g.depth-- }()
	if g.depth > 6 {
		g.simple()
		return
	}
	switch g.r.Intn(8) {
	case 0, 1:
		g.expr()
		g.w(binops[g.r.Intn(len(binops))])
		g.expr()
	case 2:
		g.w(unops[g.r.Intn(len(unops))])
		g.expr()
	case 3:
		g.w("(")
		g.expr()
		g.w(")")
	default:
		g.simple()
	}
}

func (g *gen) simple() {
	switch g.r.Intn(12) {
	case 0:
		g.w("nil")
	case 1:
		g.w("true")
	case 2:
		g.w(fmt.Sprint(g.r.Intn(100)))
	case 3:
		g.w("...")
	case 4:
		g.w(`"s"`)
	case 5:
		g.table()
	case 6:
		if g.depth < 5 {
			g.w("function")
			g.funcbody()
		} else {
			g.w("x")
		}
	default:
		g.prefix()
	}
}

func (g *gen) table() {
	g.w("{")
	for k := g.r.Intn(4); k > 0; k-- {
		switch g.r.Intn(3) {
		case 0:
			g.w("a")
			g.w("=")
			g.expr()
		case 1:
			g.w("[")
			g.expr()
			g.w("]")
			g.w("=")
			g.expr()
		default:
			g.expr()
		}
		if k > 1 || g.r.Intn(3) == 0 {
			g.w([]string{",", ";", ",,"}[g.r.Intn(3)])
		}
	}
	g.w("}")
}

func (g *gen) prefix() {
	g.depth++
	defer func() { g.depth-- }()
	if g.r.Intn(4) == 0 && g.depth < 6 {
		g.w("(")
		g.expr()
		g.w(")")
	} else {
		g.w([]string{"x", "y", "f", "t"}[g.r.Intn(4)])
	}
	for k := g.r.Intn(4); k > 0; k-- {
		switch g.r.Intn(6) {
		case 0:
			g.w(".")
			g.w("k")
		case 1:
			g.w("[")
			g.expr()
			g.w("]")
		case 2:
			g.w(":")
			g.w("m")
			g.args()
		default:
			g.args()
		}
	}
}

func (g *gen) args() {
	switch g.r.Intn(4) {
	case 0:
		g.table()
	case 1:
		g.w(`"a"`)
	default:
		g.w("(")
		for k := g.r.Intn(3); k > 0; k-- {
			g.expr()
			if k > 1 {
				g.w(",")
			}
		}
		g.w(")")
	}
}

func (g *gen) funcbody() {
	g.w("(")
	switch g.r.Intn(4) {
	case 0:
		g.w("...")
	case 1:
		g.w("a")
		g.w(",")
		g.w("b")
	case 2:
		g.w("a")
		g.w(",")
		g.w("...")
	}
	g.w(")")
	g.block()
	g.w("end")
}

func (g *gen) block() {
	g.depth++
	defer func() { g.depth-- }()
	for k := g.r.Intn(4); k > 0 && g.depth < 6; k-- {
		g.stat()
		if g.r.Intn(3) == 0 {
			g.w(";")
		}
	}
	if g.r.Intn(4) == 0 {
		g.w("return")
		if g.r.Intn(2) == 0 {
			g.expr()
		}
	}
}

func (g *gen) stat() {
	switch g.r.Intn(12) {
	case 0:
		g.w("local")
		g.w("a")
		if g.r.Intn(2) == 0 {
			g.w("=")
			g.expr()
		}
	case 1:
		g.w("if")
		g.expr()
		g.w("then")
		g.block()
		if g.r.Intn(2) == 0 {
			g.w("elseif")
			g.expr()
			g.w("then")
			g.block()
		}
		if g.r.Intn(2) == 0 {
			g.w("else")
			g.block()
		}
		g.w("end")
	case 2:
		g.w("while")
		g.expr()
		g.w("do")
		g.block()
		g.w("end")
	case 3:
		g.w("for")
		g.w("i")
		g.w("=")
		g.expr()
		g.w(",")
		g.expr()
		g.w("do")
		g.block()
		g.w("end")
	case 4:
		g.w("for")
		g.w("k")
		g.w(",")
		g.w("v")
		g.w("in")
		g.expr()
		g.w("do")
		g.block()
		g.w("end")
	case 5:
		g.w("repeat")
		g.block()
		g.w("until")
		g.expr()
	case 6:
		g.w("function")
		g.w("a")
		g.w(".")
		g.w("b")
		g.w(":")
		g.w("c")
		g.funcbody()
	case 7:
		g.w("local")
		g.w("function")
		g.w("a")
		g.funcbody()
	case 8:
		g.w("do")
		g.block()
		g.w("end")
	default:
		g.prefix()
		if g.r.Intn(2) == 0 {
			g.w("=")
			g.expr()
		}
	}
}
