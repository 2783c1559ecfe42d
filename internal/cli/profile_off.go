//go:build !hazluaprof

package cli

import "io"

// startProfiles does nothing: profiles need a build with -tags hazluaprof
// (profile.go).
func startProfiles(io.Writer) (stop func()) { return func() {} }
