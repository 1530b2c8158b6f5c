package edge

import (
	"fmt"
	"slices"

	"github.com/vergecdn/verge/hooks"
	"github.com/vergecdn/verge/origin"
)

// chosenOrigin is where a CloudFront function's viewer-request origin choice
// (hooks.OriginChoice: cf.selectRequestOriginById, cf.createRequestOriginGroup,
// cf.updateRequestOrigin) sends the request's misses instead of the behavior's origin.
type chosenOrigin struct {
	fetchers []*origin.Origin // tried in order: a group fails over to the next
	failover []int            // origin statuses that fail over (an unreachable origin always does)
	event    *hooks.Origin    // the first, as origin-facing functions see it
	key      []byte           // prefixes cache keys, as a behavior's origin id does
}

// chooseOrigin resolves c against the configured origins. An unknown id is an error.
func (p *pipeline) chooseOrigin(b *behavior, c *hooks.OriginChoice) (*chosenOrigin, error) {
	ch := &chosenOrigin{failover: c.FailoverStatus}
	if len(c.IDs) == 0 {
		ch.fetchers, ch.event, ch.key = []*origin.Origin{b.origin}, b.event.Clone(), b.originID
	}
	for _, id := range c.IDs {
		o, ok := p.byID[id]
		if !ok {
			return nil, fmt.Errorf("origin %q is not in the configuration", id)
		}
		if ch.event == nil {
			ch.event, ch.key = p.events[id].Clone(), []byte(id)
		}
		ch.fetchers = append(ch.fetchers, o)
	}
	if u := c.Update; u != nil {
		cu := ch.event.Custom
		before := *cu
		if u.DomainName != "" {
			cu.DomainName = u.DomainName
		}
		if u.SetPath {
			cu.Path = u.Path
		}
		if u.Protocol != "" {
			cu.Protocol = u.Protocol
		}
		if u.Port != 0 {
			cu.Port = u.Port
		}
		if u.SetHeaders {
			cu.CustomHeaders = u.CustomHeaders.Clone()
		}
		if cu.DomainName != before.DomainName || cu.Path != before.Path || cu.Protocol != before.Protocol || cu.Port != before.Port {
			o, err := p.adhoc.Get(cu.Protocol, cu.DomainName, cu.Port, cu.Path)
			if err != nil {
				return nil, fmt.Errorf("updateRequestOrigin: %w", err)
			}
			ch.fetchers[0] = o
			ch.key = fmt.Appendf(nil, "%s://%s:%d%s", cu.Protocol, cu.DomainName, cu.Port, cu.Path)
		}
	}
	return ch, nil
}

// failsOver reports whether a fetch from the i-th origin that ended with status (or err)
// moves on to the next member of the group.
func (ch *chosenOrigin) failsOver(i int, status int, err error) bool {
	return i+1 < len(ch.fetchers) && (err != nil || slices.Contains(ch.failover, status))
}
