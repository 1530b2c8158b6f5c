package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
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

// convergence tracks which members run a change. A member runs it once it, asked at the admin
// URL it advertises (cluster.SyncPath, which needs no token), reports the registry digest the
// node holds and that it runs what its registry says for the function changed (the new version
// fetched, compiled and attached). The node's own view of its peers is not enough: it learns a
// peer's digest from gossip for a second after each change and then from probe acks only, one
// peer a second, and a digest says nothing of the code having started. A member that cannot be
// asked (its admin URL unreachable from here, an older node without the route) counts as
// holding the change once the node's view says it is in sync.
//
// No token is sent to a member: its admin URL is whatever a holder of the gossip key
// advertised, and the CLI's token is the operator's.
type convergence struct {
	http   *http.Client    // no token, no redirects
	fn     string          // the function changed: only its associations must run
	held   map[string]bool // members seen holding the change
	silent map[string]bool // members that could not be asked
}

func newConvergence(fn string) *convergence {
	return &convergence{
		http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		fn:   fn, held: map[string]bool{}, silent: map[string]bool{},
	}
}

// askers bounds the members asked at once.
const askers = 16

// progress counts the alive members of v and those holding the change, and names the others.
func (cv *convergence) progress(ctx context.Context, v fleetView) (held, alive int, behind []string) {
	want := v.localDigest()
	var ask []cluster.Member
	for _, m := range v {
		switch {
		case m.State != cluster.StateAlive, cv.held[m.Name]:
		case m.Admin != "" && !cv.silent[m.Name]:
			ask = append(ask, m)
		case m.InSync:
			cv.held[m.Name] = true
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, askers)
	for _, m := range ask {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			d, running, err := cv.stateOf(ctx, m.Admin)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil && ctx.Err() == nil:
				cv.silent[m.Name] = true
			case err == nil && d == want && running:
				cv.held[m.Name] = true
			}
		})
	}
	wg.Wait()
	for _, m := range v {
		if m.State != cluster.StateAlive {
			continue
		}
		alive++
		if cv.held[m.Name] {
			held++
		} else {
			behind = append(behind, m.Name)
		}
	}
	return held, alive, behind
}

// maxSyncAnswer bounds what stateOf reads of a member's answer (a cluster.SyncState).
const maxSyncAnswer = 4096

// stateOf asks the node at admin, without a token, for the registry digest it holds and
// whether it runs what that registry says.
func (cv *convergence) stateOf(ctx context.Context, admin string) (digest string, running bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	u := strings.TrimRight(admin, "/") + cluster.SyncPath + "?function=" + url.QueryEscape(cv.fn)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", false, err
	}
	resp, err := cv.http.Do(req)
	if err != nil {
		return "", false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", false, fmt.Errorf("%s: %s", u, resp.Status)
	}
	var st cluster.SyncState
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxSyncAnswer)).Decode(&st); err != nil {
		return "", false, fmt.Errorf("%s: %w", u, err)
	}
	return st.Digest, st.Current, nil
}

// waitConverged polls the node at c until every alive member of its fleet holds the registry
// state the node holds after a change and runs it (see convergence), printing "converged N/M
// nodes" to w whenever N or M changes. Out of time, or interrupted (ctx ends), it says which,
// with the time waited. before is the node's view read before the change
// (fleetMembers; nil outside a fleet, when a change is converged once the node has it).
func waitConverged(ctx context.Context, c *adminClient, w io.Writer, before fleetView, timeout time.Duration, fn string) error {
	if before == nil {
		fmt.Fprintln(w, "converged 1/1 nodes (not in a fleet)")
		return nil
	}
	parent, start := ctx, time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last, behind := "", []string(nil)
	cv := newConvergence(fn)
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
			n, m, behind = cv.progress(ctx, v)
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
			why := fmt.Sprintf("the fleet did not converge within %v", timeout)
			if parent.Err() != nil { // interrupted (Ctrl-C, SIGTERM), not out of time
				why = fmt.Sprintf("interrupted after %v, before the fleet converged", time.Since(start).Round(100*time.Millisecond))
			}
			if last == "" {
				return fmt.Errorf("%s: the node did not advertise the change", why)
			}
			return fmt.Errorf("%s: %s (not in sync: %s)", why, last, strings.Join(behind, ", "))
		case <-tick.C:
		}
	}
}
