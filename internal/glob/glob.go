// Package glob matches file name patterns against the file system, for
// haz.glob and the inputs and outputs of haz.task (docs/api.md, "haz.glob").
// It knows nothing of Lua.
//
// The walker is written here rather than taken from doublestar, because
// doublestar's `*` and `**` match names starting with ".", which hazlua
// matches only by a pattern segment that starts with ".": filtering its
// results afterwards would need a second matcher that maps path segments to
// pattern segments across `**`, and it would still walk into .git and every
// other hidden tree.
//
// Pattern syntax, per "/"-separated segment:
//
//	**        zero or more directories (only as a whole segment; elsewhere
//	          it acts as *)
//	* ? [...] as path/filepath.Match within one segment; \ escapes
//	{a,b}     alternatives, expanded first (may contain "/" and nest);
//	          an unclosed "{" is an error, a stray "}" is literal
//
// A name starting with "." is matched by a wildcard segment (or crossed by
// `**`) only when that segment starts with ".". Wildcards and `**` never
// descend into a symlink to a directory; a segment without wildcards (a
// literal) is looked up directly, so a symlink named literally is followed.
// A trailing "/" keeps only directories (symlinks to directories included).
// Unreadable directories are skipped, as a shell does.
package glob

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxAlternatives caps brace expansion per pattern.
const maxAlternatives = 4096

// PatternError reports a malformed pattern: "bad pattern "x[": malformed
// character class".
type PatternError struct {
	Pattern string // the pattern as given
	Reason  string // what is wrong with it
}

func (e *PatternError) Error() string {
	return "bad pattern " + strconv.Quote(e.Pattern) + ": " + e.Reason
}

// Expand matches patterns against the file system and returns the sorted,
// deduplicated union of the matching paths: relative to the current
// directory for a relative pattern, absolute for an absolute one. The only
// error is a *PatternError, for the first malformed pattern (Check); I/O
// errors are skipped.
func Expand(patterns []string) ([]string, error) {
	if err := Check(patterns); err != nil {
		return nil, err
	}
	g := &walker{seen: map[string]bool{}, dirs: map[string][]fs.DirEntry{}}
	for _, pat := range patterns {
		alts, err := expandBraces(pat)
		if err != nil {
			return nil, &PatternError{pat, err.Error()}
		}
		for _, alt := range alts {
			segs, dirOnly, abs, err := compile(alt)
			if err != nil {
				return nil, &PatternError{pat, err.Error()}
			}
			g.dirOnly = dirOnly
			g.segs = segs
			prefix := ""
			if abs {
				prefix = "/"
			}
			if len(segs) == 0 { // "." or "/"
				g.emit(fsPath(prefix))
				continue
			}
			g.match(prefix, 0)
		}
	}
	out := make([]string, 0, len(g.seen))
	for p := range g.seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out, nil
}

// segment is one compiled pattern segment.
type segment struct {
	kind segKind
	pat  string // the segment as written (a filepath.Match pattern)
	lit  string // for segLiteral: the name with escapes removed
	dot  bool   // the segment starts with "."
}

type segKind int

const (
	segLiteral segKind = iota
	segWild
	segStarStar
)

// compile splits a brace-free pattern into segments. Empty and "."
// segments are dropped and runs of "**" collapse to one.
func compile(pat string) (segs []segment, dirOnly, abs bool, err error) {
	abs = strings.HasPrefix(pat, "/")
	dirOnly = strings.HasSuffix(pat, "/")
	for s := range strings.SplitSeq(pat, "/") {
		switch {
		case s == "" || s == ".":
			continue
		case s == "**":
			if len(segs) > 0 && segs[len(segs)-1].kind == segStarStar {
				continue
			}
			segs = append(segs, segment{kind: segStarStar, pat: s})
			continue
		}
		lit, wild, err := scanSegment(s)
		if err != nil {
			return nil, false, false, err
		}
		seg := segment{kind: segLiteral, pat: s, lit: lit, dot: s[0] == '.'}
		if wild {
			seg.kind = segWild
			// The walker matches with filepath.Match: a pattern it
			// rejects must fail here, not match nothing later.
			if _, err := filepath.Match(s, ""); err != nil {
				return nil, false, false, err
			}
		}
		segs = append(segs, seg)
	}
	return segs, dirOnly, abs, nil
}

// scanSegment checks a segment's syntax (mirroring path/filepath.Match, whose
// own check stops at the first chunk that fails to match) and reports
// whether it has wildcards; if not, lit is the name with escapes removed.
func scanSegment(s string) (lit string, wild bool, err error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '\\':
			if i+1 >= len(s) {
				return "", false, errors.New("trailing backslash")
			}
			_, n := utf8.DecodeRuneInString(s[i+1:])
			b.WriteString(s[i+1 : i+1+n])
			i += 1 + n
		case '*', '?':
			wild = true
			i++
		case '[':
			wild = true
			i++
			if i < len(s) && s[i] == '^' {
				i++
			}
			for nrange := 0; ; nrange++ {
				if i < len(s) && s[i] == ']' && nrange > 0 {
					i++
					break
				}
				var ok bool
				if i, ok = classChar(s, i); !ok {
					return "", false, errors.New("malformed character class")
				}
				if s[i] == '-' {
					if i, ok = classChar(s, i+1); !ok {
						return "", false, errors.New("malformed character range")
					}
				}
			}
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), wild, nil
}

// classChar consumes one (possibly escaped) character of a character class
// at s[i] and returns the index after it; like filepath.Match, "-" and "]"
// must be escaped there, and the class must continue after it.
func classChar(s string, i int) (int, bool) {
	if i >= len(s) || s[i] == '-' || s[i] == ']' {
		return i, false
	}
	if s[i] == '\\' {
		i++
		if i >= len(s) {
			return i, false
		}
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && n == 1 {
		return i, false // not UTF-8: filepath.Match rejects it
	}
	i += n
	return i, i < len(s)
}

// expandBraces expands {a,b} alternatives (nested, any number of groups) in
// pattern order. Braces inside a [...] class and escaped braces are literal.
func expandBraces(pat string) ([]string, error) {
	open, close, commas, err := findBraceGroup(pat)
	if err != nil {
		return nil, err
	}
	if open < 0 {
		return []string{pat}, nil
	}
	var out []string
	prev := open
	for _, end := range append(commas, close) {
		rest, err := expandBraces(pat[:open] + pat[prev+1:end] + pat[close+1:])
		if err != nil {
			return nil, err
		}
		out = append(out, rest...)
		if len(out) > maxAlternatives {
			return nil, errors.New("too many {} alternatives")
		}
		prev = end
	}
	return out, nil
}

// findBraceGroup finds the first top-level {...} group: the index of its
// "{", of its "}", and of its top-level commas. open is -1 when there is no
// group.
func findBraceGroup(pat string) (open, close int, commas []int, err error) {
	open, depth := -1, 0
	for i := 0; i < len(pat); i++ {
		switch pat[i] {
		case '\\':
			i++
		case '[':
			i = skipClass(pat, i)
		case '{':
			if depth == 0 {
				open = i
			}
			depth++
		case ',':
			if depth == 1 {
				commas = append(commas, i)
			}
		case '}':
			if depth == 0 {
				continue // a stray "}" is literal, as in the shell
			}
			depth--
			if depth == 0 {
				return open, i, commas, nil
			}
		}
	}
	if depth > 0 {
		return -1, -1, nil, errors.New(`unmatched "{"`)
	}
	return -1, -1, nil, nil
}

// skipClass returns the index of the "]" closing the class opened at
// pat[i], or i when the class is not closed (scanSegment reports that).
func skipClass(pat string, i int) int {
	j := i + 1
	if j < len(pat) && pat[j] == '^' {
		j++
	}
	for first := true; j < len(pat); j++ {
		switch pat[j] {
		case '\\':
			j++
		case ']':
			if !first {
				return j
			}
		case '/':
			return i
		}
		first = false
	}
	return i
}

// walker walks the file system for one Expand call.
type walker struct {
	segs    []segment
	dirOnly bool
	seen    map[string]bool
	dirs    map[string][]fs.DirEntry // ReadDir cache, by fsPath
}

// fsPath turns a result prefix into a path to open ("" is the current
// directory).
func fsPath(prefix string) string {
	if prefix == "" {
		return "."
	}
	return prefix
}

// join appends a name to a result prefix.
func join(prefix, name string) string {
	switch prefix {
	case "":
		return name
	case "/":
		return "/" + name
	}
	return prefix + "/" + name
}

// readDir lists a directory once per expansion; errors yield no entries.
func (g *walker) readDir(dir string) []fs.DirEntry {
	dir = fsPath(dir)
	if ents, ok := g.dirs[dir]; ok {
		return ents
	}
	ents, _ := os.ReadDir(dir)
	g.dirs[dir] = ents
	return ents
}

// emit records a match, checking it is a directory for a trailing "/".
func (g *walker) emit(p string) {
	if g.dirOnly {
		if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
			return
		}
	}
	g.seen[p] = true
}

// match matches segs[i:] below prefix, an existing directory (or "" for the
// current directory).
func (g *walker) match(prefix string, i int) {
	seg := g.segs[i]
	last := i == len(g.segs)-1
	switch seg.kind {
	case segLiteral:
		p := join(prefix, seg.lit)
		if last {
			if _, err := os.Lstat(p); err == nil {
				g.emit(p)
			}
			return
		}
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			g.match(p, i+1)
		}
	case segWild:
		for _, e := range g.readDir(prefix) {
			name := e.Name()
			if name[0] == '.' && !seg.dot {
				continue
			}
			if ok, _ := filepath.Match(seg.pat, name); !ok {
				continue
			}
			p := join(prefix, name)
			if last {
				g.emit(p)
			} else if e.IsDir() { // a symlink is not a dir here: not followed
				g.match(p, i+1)
			}
		}
	case segStarStar:
		if last {
			// Trailing **: prefix itself and everything below it.
			if prefix != "" {
				g.emit(prefix)
			}
			g.walkAll(prefix)
			return
		}
		g.match(prefix, i+1) // zero directories
		for _, e := range g.readDir(prefix) {
			if e.IsDir() && e.Name()[0] != '.' {
				g.match(join(prefix, e.Name()), i)
			}
		}
	}
}

// walkAll emits every non-hidden entry below prefix, descending into real
// directories only.
func (g *walker) walkAll(prefix string) {
	for _, e := range g.readDir(prefix) {
		if e.Name()[0] == '.' {
			continue
		}
		p := join(prefix, e.Name())
		g.emit(p)
		if e.IsDir() {
			g.walkAll(p)
		}
	}
}

// Check returns a *PatternError for the first malformed pattern of
// patterns (an empty one included), or nil. It does not read the file
// system.
func Check(patterns []string) error {
	for _, pat := range patterns {
		if pat == "" {
			return &PatternError{pat, "empty pattern"}
		}
		if !strings.ContainsAny(pat, "*?[{\\") {
			continue // a plain path: nothing to get wrong
		}
		alts, err := expandBraces(pat)
		if err != nil {
			return &PatternError{pat, err.Error()}
		}
		for _, alt := range alts {
			if _, _, _, err := compile(alt); err != nil {
				return &PatternError{pat, err.Error()}
			}
		}
	}
	return nil
}

// Match reports whether name, a slash-separated path, matches pattern as
// Expand would match it, without looking at the file system: the same
// segments, braces, `**` and dot rule. Whether name is a directory is not
// known here: a trailing "/" in the pattern is ignored, and a trailing
// `**` matches its prefix ("build/**" matches "build"), which Expand
// returns only when it is a directory. A malformed pattern matches
// nothing.
func Match(pattern, name string) bool {
	alts, err := expandBraces(pattern)
	if err != nil {
		return false
	}
	abs := strings.HasPrefix(name, "/")
	var parts []string
	for s := range strings.SplitSeq(name, "/") {
		if s != "" && s != "." {
			parts = append(parts, s)
		}
	}
	for _, alt := range alts {
		segs, _, pabs, err := compile(alt)
		if err == nil && pabs == abs && matchSegs(segs, parts, true) {
			return true
		}
	}
	return false
}

// matchSegs matches segs against the path segments parts; root says no
// segment has been consumed yet (a trailing `**` matches its prefix only
// when that prefix is not the starting point, as in Expand).
func matchSegs(segs []segment, parts []string, root bool) bool {
	if len(segs) == 0 {
		return len(parts) == 0
	}
	seg := segs[0]
	switch seg.kind {
	case segLiteral:
		return len(parts) > 0 && parts[0] == seg.lit && matchSegs(segs[1:], parts[1:], false)
	case segWild:
		if len(parts) == 0 || parts[0][0] == '.' && !seg.dot {
			return false
		}
		ok, _ := filepath.Match(seg.pat, parts[0])
		return ok && matchSegs(segs[1:], parts[1:], false)
	}
	// segStarStar
	if len(segs) == 1 {
		if len(parts) == 0 {
			return !root
		}
		for _, p := range parts {
			if p[0] == '.' {
				return false
			}
		}
		return true
	}
	if matchSegs(segs[1:], parts, root) {
		return true
	}
	return len(parts) > 0 && parts[0][0] != '.' && matchSegs(segs, parts[1:], false)
}

// Literal reports whether pattern has no wildcards and no braces, and if
// so returns the one path it can match, cleaned ("./a//b/" is "a/b").
func Literal(pattern string) (string, bool) {
	if strings.ContainsAny(pattern, "{") {
		return "", false
	}
	if !strings.ContainsAny(pattern, "*?[\\") && isClean(pattern) {
		return pattern, true // the common case, without compiling
	}
	segs, _, abs, err := compile(pattern)
	if err != nil {
		return "", false
	}
	parts := make([]string, 0, len(segs))
	for _, s := range segs {
		if s.kind != segLiteral {
			return "", false
		}
		parts = append(parts, s.lit)
	}
	p := strings.Join(parts, "/")
	if abs {
		p = "/" + p
	}
	if p == "" {
		p = "."
	}
	return p, true
}

// isClean reports whether a pattern has no empty or "." segment to drop:
// Literal returns it as it is.
func isClean(p string) bool {
	return p != "" && p != "/" && !strings.Contains(p, "//") && !strings.Contains(p, "/./") &&
		!strings.HasPrefix(p, "./") && !strings.HasSuffix(p, "/") && !strings.HasSuffix(p, "/.") && p != "."
}

// Base is where the matches of a pattern can lie, for a watcher: under
// Dir, its immediate entries only or, when Deep, at any depth.
type Base struct {
	Dir  string // the pattern's leading literal directory: "." for none, absolute for an absolute pattern
	Deep bool   // matches may lie below Dir's immediate entries
	// Literal is the one path a pattern without wildcards matches, which
	// may be a directory (whose contents then count); else "".
	Literal string
}

// Bases returns the Base of each brace alternative of pattern, without
// looking at the file system; nil for a malformed pattern.
func Bases(pattern string) []Base {
	alts, err := expandBraces(pattern)
	if err != nil {
		return nil
	}
	var out []Base
	for _, alt := range alts {
		segs, _, abs, err := compile(alt)
		if err != nil {
			return nil
		}
		var lits []string
		n := 0
		for n < len(segs) && segs[n].kind == segLiteral {
			lits = append(lits, segs[n].lit)
			n++
		}
		b := Base{}
		if n == len(segs) {
			// No wildcard: the path itself, in its parent.
			if n > 0 {
				lits = lits[:n-1]
			}
			b.Literal = strings.Join(append(append([]string(nil), lits...), segLit(segs)...), "/")
			if abs {
				b.Literal = "/" + b.Literal
			}
			if n == 0 { // "." or "/": the whole tree
				b.Literal, b.Deep = ".", true
				if abs {
					b.Literal = "/"
				}
			}
		} else {
			b.Deep = len(segs)-n > 1 || segs[n].kind == segStarStar
		}
		b.Dir = strings.Join(lits, "/")
		if abs {
			b.Dir = "/" + b.Dir
		}
		if b.Dir == "" {
			b.Dir = "."
		}
		out = append(out, b)
	}
	return out
}

// segLit returns the last segment's literal name, if segs has one.
func segLit(segs []segment) []string {
	if len(segs) == 0 {
		return nil
	}
	return []string{segs[len(segs)-1].lit}
}
