package docker

import (
	"context"
	"net"
	"time"
)

// probe waits until the server behind addr speaks its protocol: it sends hello (if
// any) and waits for a first byte. A published port accepts connections as soon as
// the container starts, long before the server listens (docker-proxy then closes
// them), so a dial alone proves nothing, and a driver connecting that early logs
// noise (go-sql-driver/mysql prints "unexpected EOF"). Polling every 20ms makes the
// wait end within a few milliseconds of the server being ready. It returns when the
// server spoke or ctx is done; scratch.Connect then makes the real connection and
// reports any error.
func probe(ctx context.Context, addr string, hello []byte) {
	var d net.Dialer
	for {
		if spoke(ctx, &d, addr, hello) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func spoke(ctx context.Context, d *net.Dialer, addr string, hello []byte) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	_ = c.SetDeadline(deadline)
	if len(hello) > 0 {
		if _, err := c.Write(hello); err != nil {
			return false
		}
	}
	var b [1]byte
	n, _ := c.Read(b[:])
	return n == 1
}
