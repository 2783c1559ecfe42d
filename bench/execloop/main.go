// Command execloop is the spawn anchor of the hazlua benchmarks: it runs a
// program N times in sequence with os/exec, the way a plain Go program would,
// and exits non-zero at the first failure.
//
//	execloop -n 1000 /bin/true
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
)

func main() {
	n := flag.Int("n", 1000, "how many times to run the program")
	flag.Parse()
	argv := flag.Args()
	if len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "usage: execloop [-n N] PROGRAM [ARG...]")
		os.Exit(2)
	}
	for i := 0; i < *n; i++ {
		if err := exec.Command(argv[0], argv[1:]...).Run(); err != nil {
			fmt.Fprintf(os.Stderr, "execloop: run %d: %v\n", i+1, err)
			os.Exit(1)
		}
	}
}
