package proc

import (
	"context"
	"os/exec"
	"testing"
)

// BenchmarkOsExecTrue is the anchor. It runs first: once a Manager
// exists, its reaper also reaps children that os/exec waits for.
func BenchmarkOsExecTrue(b *testing.B) {
	for b.Loop() {
		if err := exec.Command("/bin/true").Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStartTrue measures one spawn-and-wait of /bin/true through a
// Manager, next to the same through os/exec.
func BenchmarkStartTrue(b *testing.B) {
	m := NewManager(Config{})
	for b.Loop() {
		g, err := m.Start(context.Background(), Options{}, &Spec{Path: "/bin/true", Args: []string{"true"}})
		if err != nil {
			b.Fatal(err)
		}
		<-g.Done()
	}
}
