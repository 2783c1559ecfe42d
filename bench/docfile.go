package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// markers delimit the part of the output file that one benchmark group
// owns; each group keeps its own section in the same file and leaves the
// rest alone.
type markers struct{ start, end string }

var (
	coreMarkers    = markers{"<!-- bench:core:start -->", "<!-- bench:core:end -->"}
	tasksMarkers   = markers{"<!-- bench:tasks:start -->", "<!-- bench:tasks:end -->"}
	cacheMarkers   = markers{"<!-- bench:cache:start -->", "<!-- bench:cache:end -->"}
	scalingMarkers = markers{"<!-- bench:scaling:start -->", "<!-- bench:scaling:end -->"}
)

// writeSection puts body between the markers mk in path: it replaces the
// old section if there is one, appends a new one otherwise, and creates the
// file with a title if it does not exist.
func writeSection(path string, mk markers, body string) error {
	section := mk.start + "\n" + strings.TrimRight(body, "\n") + "\n" + mk.end + "\n"
	old, err := os.ReadFile(path)
	var text string
	switch {
	case os.IsNotExist(err):
		text = "# Benchmarks\n\nEach section is written by a benchmark program; edit outside the `bench:*` markers only.\n\n" + section
	case err != nil:
		return err
	default:
		text, err = replaceSection(string(old), mk, section)
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// replaceSection swaps the marked section of doc for section, or appends it.
func replaceSection(doc string, mk markers, section string) (string, error) {
	start := strings.Index(doc, mk.start)
	end := strings.Index(doc, mk.end)
	switch {
	case start < 0 && end < 0:
		if doc != "" && !strings.HasSuffix(doc, "\n") {
			doc += "\n"
		}
		if doc != "" {
			doc += "\n"
		}
		return doc + section, nil
	case start < 0 || end < start:
		return "", fmt.Errorf("markers %s and %s are missing or out of order", mk.start, mk.end)
	}
	after := doc[end+len(mk.end):]
	after = strings.TrimPrefix(after, "\n")
	return doc[:start] + section + after, nil
}
