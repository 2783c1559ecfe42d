package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The report owns the part of the output file between these markers; other
// benchmark groups keep their own sections in the same file.
const (
	startMarker = "<!-- bench:core:start -->"
	endMarker   = "<!-- bench:core:end -->"
)

// writeSection puts body between the markers in path: it replaces the old
// section if there is one, appends a new one otherwise, and creates the file
// with a title if it does not exist.
func writeSection(path, body string) error {
	section := startMarker + "\n" + strings.TrimRight(body, "\n") + "\n" + endMarker + "\n"
	old, err := os.ReadFile(path)
	var text string
	switch {
	case os.IsNotExist(err):
		text = "# Benchmarks\n\nEach section is written by a benchmark program; edit outside the `bench:*` markers only.\n\n" + section
	case err != nil:
		return err
	default:
		text, err = replaceSection(string(old), section)
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
func replaceSection(doc, section string) (string, error) {
	start := strings.Index(doc, startMarker)
	end := strings.Index(doc, endMarker)
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
		return "", fmt.Errorf("markers %s and %s are missing or out of order", startMarker, endMarker)
	}
	after := doc[end+len(endMarker):]
	after = strings.TrimPrefix(after, "\n")
	return doc[:start] + section + after, nil
}
