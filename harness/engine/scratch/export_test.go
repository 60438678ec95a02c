package scratch

import "context"

// DropForTest exposes drop to the external tests: it is the one place that must
// refuse to drop a database straddle did not create.
func (s *Server) DropForTest(ctx context.Context, name string) error { return s.drop(ctx, name) }
