package session

import "context"

// RolloutConfig and OpenRollout let the package's external tests drive a
// session's rollout on a database of their own.
type RolloutConfig = rolloutConfig

func OpenRollout(ctx context.Context, cfg RolloutConfig) (*rollout, error) {
	return openRollout(ctx, cfg)
}
