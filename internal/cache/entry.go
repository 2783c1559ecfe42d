package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"time"
	"unicode/utf8"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// entryVersion is the format of entry files: an entry of another version
// is corrupt (a miss). Changing what an entry holds or means must bump it.
const entryVersion = 1

// sumPrefix starts the checksum line that ends an entry file.
const sumPrefix = "\nsha256:"

// sumLineLen is the length of the checksum line with its newlines.
const sumLineLen = len(sumPrefix) + 2*sha256.Size + 1

// Entry is one stored result, as Lookup returns it. The zero Entry has no
// outputs and no log (restoring it writes nothing). An Entry is a plain
// value: safe to read from several goroutines; Restore and OpenLog do not
// modify it.
type Entry struct {
	Key   fingerprint.Sum
	Roots []string // the output paths as given to Store (top-level items), in order
	Items []Item   // sorted by Path, each under (or equal to) a root
	// Log is the hash of the recorded output's blob, or nil when none was
	// recorded.
	Log     *fingerprint.Sum
	Created time.Time // when Store was called
}

// wireEntry is an entry file's JSON.
type wireEntry struct {
	Version int              `json:"version"`
	Key     fingerprint.Sum  `json:"key"`
	Roots   []name           `json:"roots"`
	Items   []wireItem       `json:"items"`
	Log     *fingerprint.Sum `json:"log,omitempty"`
	Created time.Time        `json:"created"`
}

// wireItem is an Item's JSON.
type wireItem struct {
	Path   name             `json:"path"`
	Kind   string           `json:"kind"`
	Mode   uint32           `json:"mode,omitempty"`
	Hash   *fingerprint.Sum `json:"hash,omitempty"`
	Target name             `json:"target,omitempty"`
}

// name is a path or symlink target: a JSON string when it is valid UTF-8,
// else {"base64": "…"}, so every byte survives the round trip.
type name string

// MarshalJSON encodes n.
func (n name) MarshalJSON() ([]byte, error) {
	if utf8.ValidString(string(n)) {
		return json.Marshal(string(n))
	}
	return json.Marshal(struct {
		Base64 []byte `json:"base64"`
	}{[]byte(n)})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (n *name) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var o struct {
			Base64 *[]byte `json:"base64"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		if o.Base64 == nil {
			return errors.New("name object without base64")
		}
		*n = name(*o.Base64)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*n = name(s)
	return nil
}

// encodeEntry serialises e (checked) as an entry file.
func encodeEntry(e *Entry) ([]byte, error) {
	w := wireEntry{Version: entryVersion, Key: e.Key, Log: e.Log, Created: e.Created,
		Roots: make([]name, len(e.Roots)), Items: make([]wireItem, len(e.Items))}
	for i, r := range e.Roots {
		w.Roots[i] = name(r)
	}
	for i, it := range e.Items {
		wi := wireItem{Path: name(it.Path), Kind: it.Kind.String(), Mode: uint32(it.Mode), Target: name(it.Target)}
		if it.Kind == File {
			wi.Hash = &it.Hash
		}
		w.Items[i] = wi
	}
	body, err := json.Marshal(&w)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	out := make([]byte, 0, len(body)+sumLineLen)
	out = append(out, body...)
	out = append(out, sumPrefix...)
	out = hex.AppendEncode(out, sum[:])
	return append(out, '\n'), nil
}

// decodeEntry parses and checks an entry file. It fails, never panics, on
// any malformed input.
func decodeEntry(data []byte) (*Entry, error) {
	if len(data) < sumLineLen+2 {
		return nil, errors.New("truncated")
	}
	body, tail := data[:len(data)-sumLineLen], data[len(data)-sumLineLen:]
	if !bytes.HasPrefix(tail, []byte(sumPrefix)) || tail[len(tail)-1] != '\n' {
		return nil, errors.New("no checksum line (truncated?)")
	}
	sum := sha256.Sum256(body)
	if !bytes.Equal(hex.AppendEncode(nil, sum[:]), tail[len(sumPrefix):len(tail)-1]) {
		return nil, errors.New("checksum mismatch")
	}
	var v struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, err
	}
	if v.Version != entryVersion {
		return nil, fmt.Errorf("format version %d, want %d", v.Version, entryVersion)
	}
	var w wireEntry
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, err
	}
	e := &Entry{Key: w.Key, Log: w.Log, Created: w.Created, Roots: make([]string, len(w.Roots)), Items: make([]Item, len(w.Items))}
	for i, r := range w.Roots {
		e.Roots[i] = string(r)
	}
	for i, wi := range w.Items {
		k, ok := parseKind(wi.Kind)
		if !ok {
			return nil, fmt.Errorf("item %q: unknown kind %q", wi.Path, wi.Kind)
		}
		it := Item{Path: string(wi.Path), Kind: k, Mode: fs.FileMode(wi.Mode), Target: string(wi.Target)}
		if wi.Hash != nil {
			if k != File {
				return nil, fmt.Errorf("item %q: a %s with a hash", it.Path, k)
			}
			it.Hash = *wi.Hash
		} else if k == File {
			return nil, fmt.Errorf("item %q: a file without a hash", it.Path)
		}
		e.Items[i] = it
	}
	if err := e.check(); err != nil {
		return nil, err
	}
	return e, nil
}

// check checks that e's roots and items make a tree Restore can write:
// clean paths; items sorted without duplicates, each under a root, each
// root an item, each item not a root inside a directory item; fields that
// fit the kind.
func (e *Entry) check() error {
	for _, r := range e.Roots {
		if err := checkPath(r); err != nil {
			return err
		}
	}
	tops, _ := splitRoots(e.Roots)
	isTop := make(map[string]bool, len(tops))
	for _, t := range tops {
		isTop[t] = true
	}
	kinds := make(map[string]Kind, len(e.Items))
	for i, it := range e.Items {
		if err := checkPath(it.Path); err != nil {
			return err
		}
		if i > 0 && it.Path <= e.Items[i-1].Path {
			return fmt.Errorf("items not sorted or duplicated at %q", it.Path)
		}
		if err := checkItem(it); err != nil {
			return err
		}
		if !isTop[it.Path] {
			parent := path.Dir(it.Path)
			k, ok := kinds[parent]
			switch {
			case !ok && topOf(it.Path, tops) == "":
				return fmt.Errorf("item %q is outside every output root", it.Path)
			case !ok:
				return fmt.Errorf("item %q: its directory %q is not an item", it.Path, parent)
			case k != Dir:
				return fmt.Errorf("item %q is inside %q, a %s", it.Path, parent, k)
			}
		}
		kinds[it.Path] = it.Kind
	}
	for _, r := range e.Roots {
		if _, ok := kinds[r]; !ok {
			return fmt.Errorf("output root %q is not an item", r)
		}
	}
	return nil
}

// checkItem checks that it's fields fit its kind.
func checkItem(it Item) error {
	switch it.Kind {
	case File, Dir:
		if it.Mode&^keptModeBits != 0 {
			return fmt.Errorf("item %q: mode %v", it.Path, it.Mode)
		}
		if it.Target != "" {
			return fmt.Errorf("item %q: a %s with a symlink target", it.Path, it.Kind)
		}
		if it.Kind == Dir && it.Hash != (fingerprint.Sum{}) {
			return fmt.Errorf("item %q: a directory with a hash", it.Path)
		}
	case Symlink:
		if it.Mode != 0 || it.Hash != (fingerprint.Sum{}) {
			return fmt.Errorf("item %q: a symlink with a mode or hash", it.Path)
		}
		if it.Target == "" || bytes.IndexByte([]byte(it.Target), 0) >= 0 {
			return fmt.Errorf("item %q: symlink target %q", it.Path, it.Target)
		}
	default:
		return fmt.Errorf("item %q: bad kind %v", it.Path, it.Kind)
	}
	return nil
}

// blobs returns the blobs e refers to (files' contents and the log), each
// once.
func (e *Entry) blobs() []fingerprint.Sum {
	seen := make(map[fingerprint.Sum]bool)
	var out []fingerprint.Sum
	add := func(s fingerprint.Sum) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, it := range e.Items {
		if it.Kind == File {
			add(it.Hash)
		}
	}
	if e.Log != nil {
		add(*e.Log)
	}
	return out
}
