package suggest

import "testing"

func TestClosest(t *testing.T) {
	tasks := []string{"build", "test", "lint", "generate-docs"}
	for _, tt := range []struct{ in, want string }{
		{"biuld", "build"},
		{"tset", "test"},
		{"tests", "test"},
		{"Build", "build"},
		{"generate-doc", "generate-docs"},
		{"deploy", ""},
		{"x", ""},
	} {
		if got := Closest(tt.in, tasks); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestClosestKeys(t *testing.T) {
	keys := []string{"program", "args", "env", "clear_env", "cwd", "stdin", "input", "stdout", "stderr", "timeout", "grace", "job", "name"}
	for _, tt := range []struct{ in, want string }{
		{"stdot", "stdout"},
		{"evn", "env"},
		{"cdw", "cwd"},
		{"stderr", "stderr"},
		{"bogus", ""},
		{"", ""},
	} {
		if got := Closest(tt.in, keys); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestClosestTiesGoFirst(t *testing.T) {
	if got := Closest("ab", []string{"xb", "ax"}); got != "xb" {
		t.Errorf("Closest = %q, want the first of two at distance 1", got)
	}
}

func TestDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"abc", "", 3},
		{"", "abc", 3},
		{"kitten", "sitting", 3},
		{"énv", "env", 1}, // runes, not bytes
		{"stdot", "stdout", 1},
	} {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
