package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/vergecdn/verge/cluster"
)

// fleetView is the node's answer to GET /v1/cluster/members, or nil outside a fleet.
type fleetView []cluster.Member

// fleetMembers asks the node at c for the fleet as it sees it; nil, nil when the node is not
// in a fleet (the route does not exist).
func fleetMembers(ctx context.Context, c *adminClient) (fleetView, error) {
	var resp struct {
		Members []cluster.Member `json:"members"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/cluster/members", nil, &resp)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return resp.Members, nil
}

// localDigest is the registry digest the node itself advertises.
func (v fleetView) localDigest() string {
	for _, m := range v {
		if m.Local {
			return m.Digest
		}
	}
	return ""
}

// progress counts the alive members and those advertising the node's digest, and names the
// others.
func (v fleetView) progress() (inSync, alive int, behind []string) {
	for _, m := range v {
		if m.State != cluster.StateAlive {
			continue
		}
		alive++
		if m.InSync {
			inSync++
		} else {
			behind = append(behind, m.Name)
		}
	}
	return inSync, alive, behind
}

// waitConverged polls the node at c until every alive member of its fleet holds the registry
// state the node holds after a change, printing "converged N/M nodes" to w whenever N or M
// changes. before is the node's digest read before the change (fleetMembers; nil outside a
// fleet, when a change is converged once the node has it). A member converges when its
// registry digest equals the node's: it then has the change's records; it runs the new
// version once it has fetched the code and started it, a moment later.
func waitConverged(ctx context.Context, c *adminClient, w io.Writer, before fleetView, timeout time.Duration) error {
	if before == nil {
		fmt.Fprintln(w, "converged 1/1 nodes (not in a fleet)")
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last, behind := "", []string(nil)
	for {
		v, err := fleetMembers(ctx, c)
		switch {
		case err != nil && ctx.Err() != nil: // out of time during the call
		case err != nil:
			return err
		case v == nil:
			return fmt.Errorf("the node at %s is no longer in a fleet", c.base)
		case v.localDigest() != before.localDigest(): // until then the fleet agrees on the state before
			var n, m int
			n, m, behind = v.progress()
			if line := fmt.Sprintf("converged %d/%d nodes", n, m); line != last {
				fmt.Fprintln(w, line)
				last = line
			}
			if n == m {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			if last == "" {
				return fmt.Errorf("the fleet did not converge within %v: the node did not advertise the change", timeout)
			}
			return fmt.Errorf("the fleet did not converge within %v: %s (not in sync: %s)", timeout, last, strings.Join(behind, ", "))
		case <-tick.C:
		}
	}
}
