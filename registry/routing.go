package registry

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/vergecdn/verge/hooks"
)

// AliasSpec is where an alias points.
type AliasSpec struct {
	Version int `json:"version"`
	// AdditionalVersion, when not 0, receives Weight (0..1) of the requests.
	AdditionalVersion int     `json:"additionalVersion,omitempty"`
	Weight            float64 `json:"weight,omitempty"`
	Description       string  `json:"description,omitempty"`
}

// PutAlias creates or moves alias name:alias. Both versions must be published versions of
// the function. A move that breaks an association's limits is refused.
func (s *Store) PutAlias(who, name, alias string, spec AliasSpec) (Alias, error) {
	if !ValidAliasName(alias) || alias == Latest {
		return Alias{}, invalid("alias name %q: want 1-128 letters, digits, '-' or '_', not all digits", alias)
	}
	switch {
	case spec.Version <= 0:
		return Alias{}, invalid("alias %s: a version number is required", alias)
	case spec.Weight < 0 || spec.Weight > 1 || spec.Weight != spec.Weight:
		return Alias{}, invalid("weight %v: want 0 to 1", spec.Weight)
	case spec.AdditionalVersion == 0 && spec.Weight != 0:
		return Alias{}, invalid("a weight needs an additional version")
	case spec.AdditionalVersion != 0 && spec.AdditionalVersion == spec.Version:
		return Alias{}, invalid("the additional version must differ from the version")
	}
	s.write.Lock()
	defer s.write.Unlock()
	var a Alias
	_, err := s.update(who, func(c *change) (AuditEntry, error) {
		st, err := readState(c.tx)
		if err != nil {
			return AuditEntry{}, err
		}
		if _, ok := st.Functions[name]; !ok {
			return AuditEntry{}, notFound("function %q", name)
		}
		for _, n := range []int{spec.Version, spec.AdditionalVersion} {
			if _, ok := st.Versions[name][n]; !ok && n != 0 {
				return AuditEntry{}, &missingVersionError{function: name, number: n}
			}
		}
		a = Alias{Function: name, Name: alias, Version: spec.Version, AdditionalVersion: spec.AdditionalVersion,
			Weight: spec.Weight, Description: spec.Description, Stamp: c.stamp,
			VersionNode: st.Versions[name][spec.Version].Node}
		if spec.AdditionalVersion != 0 {
			a.AdditionalNode = st.Versions[name][spec.AdditionalVersion].Node
		}
		if err := putJSON(c.tx.Bucket(bAliases), pairKey(name, alias), a); err != nil {
			return AuditEntry{}, err
		}
		if err := checkAssociationsOf(c.tx, name, s.limits); err != nil {
			return AuditEntry{}, err
		}
		detail := fmt.Sprintf("-> %d", a.Version)
		if a.AdditionalVersion != 0 {
			detail += fmt.Sprintf(", %d at weight %g", a.AdditionalVersion, a.Weight)
		}
		return AuditEntry{Action: "put-alias", Target: name + ":" + alias, Detail: detail}, nil
	})
	return a, s.gate.explain(err)
}

// DeleteAlias deletes an alias; refused with a *ConflictError while an association uses it.
func (s *Store) DeleteAlias(who, name, alias string) error {
	s.write.Lock()
	defer s.write.Unlock()
	_, err := s.update(who, func(c *change) (AuditEntry, error) {
		st, err := readState(c.tx)
		if err != nil {
			return AuditEntry{}, err
		}
		if _, ok := st.Aliases[name][alias]; !ok {
			return AuditEntry{}, notFound("alias %s:%s", name, alias)
		}
		ce := &ConflictError{Target: "alias " + name + ":" + alias}
		for _, a := range st.AssociationsOf(name) {
			if a.Qualifier == alias {
				ce.UsedBy = append(ce.UsedBy, "association "+a.Behavior+" "+a.Event)
			}
		}
		if len(ce.UsedBy) > 0 {
			return AuditEntry{}, ce
		}
		m := &merger{tx: c.tx, rev: c.stamp.Revision}
		if err := m.tombstone(Tombstone{Kind: "alias", Key: name + "\x00" + alias, Stamp: c.stamp}); err != nil {
			return AuditEntry{}, err
		}
		return AuditEntry{Action: "delete-alias", Target: name + ":" + alias}, nil
	})
	return err
}

// Associate binds behavior's event type to function:qualifier (a published version's
// number or an alias), replacing any previous binding. $LATEST (or no qualifier) is refused
// (ErrInvalid), as Lambda@Edge refuses it: every deploy would go live at once, unpublished.
// Associations to $LATEST stored before this refusal (or replicated from a node that still
// takes them) keep working; the activator warns about them. The package of every version it
// resolves to must fit the event's limit (ErrTooLarge otherwise), and cloudfront-functions
// code binds to viewer events only.
func (s *Store) Associate(who string, a Association) (Association, error) {
	behavior, err := NormalizeBehavior(a.Behavior)
	if err != nil {
		return Association{}, err
	}
	if _, err := ParseEvent(a.Event); err != nil {
		return Association{}, err
	}
	if a.Qualifier == "" || a.Qualifier == Latest {
		return Association{}, invalid("function %s: an association needs a published version (%s:3) or an alias (%s:live), "+
			"not $LATEST, which every deploy changes at once: publish $LATEST first (verge fn publish %s)", a.Function, a.Function, a.Function, a.Function)
	}
	if !ValidQualifier(a.Qualifier) {
		return Association{}, invalid("qualifier %q: want a version number or an alias", a.Qualifier)
	}
	a.Behavior = behavior
	s.write.Lock()
	defer s.write.Unlock()
	_, err = s.update(who, func(c *change) (AuditEntry, error) {
		a.Stamp, a.QualifierNode = c.stamp, ""
		if n, isNum := VersionNumber(a.Qualifier); isNum {
			var v Version
			if _, err := getJSON(c.tx.Bucket(bVersions), versionKey(a.Function, n), &v); err != nil {
				return AuditEntry{}, err
			}
			a.QualifierNode = v.Node // pinned: a concurrent publish of n elsewhere changes nothing
		}
		if err := putJSON(c.tx.Bucket(bAssoc), pairKey(a.Behavior, a.Event), a); err != nil {
			return AuditEntry{}, err
		}
		if err := checkAssociationsOf(c.tx, a.Function, s.limits); err != nil {
			return AuditEntry{}, err
		}
		return AuditEntry{Action: "associate", Target: a.Behavior + " " + a.Event, Detail: a.Function + ":" + a.Qualifier}, nil
	})
	return a, s.gate.explain(err)
}

// Dissociate removes behavior's binding for event.
func (s *Store) Dissociate(who, behavior, event string) error {
	behavior, err := NormalizeBehavior(behavior)
	if err != nil {
		return err
	}
	if _, err := ParseEvent(event); err != nil {
		return err
	}
	s.write.Lock()
	defer s.write.Unlock()
	_, err = s.update(who, func(c *change) (AuditEntry, error) {
		b := c.tx.Bucket(bAssoc)
		var old Association
		if found, err := getJSON(b, pairKey(behavior, event), &old); err != nil || !found {
			return AuditEntry{}, orNotFound(err, "no association for %s %s", behavior, event)
		}
		m := &merger{tx: c.tx, rev: c.stamp.Revision}
		if err := m.tombstone(Tombstone{Kind: "association", Key: behavior + "\x00" + event, Stamp: c.stamp}); err != nil {
			return AuditEntry{}, err
		}
		return AuditEntry{Action: "dissociate", Target: behavior + " " + event, Detail: "was " + old.Function + ":" + old.Qualifier}, nil
	})
	return err
}

// checkAssociationsOf checks, inside a write transaction that has already applied its
// change, that every association of function name still resolves and fits its event.
func checkAssociationsOf(tx *bolt.Tx, name string, l Limits) error {
	st, err := readState(tx)
	if err != nil {
		return err
	}
	for _, a := range st.AssociationsOf(name) {
		if err := st.checkAssociation(a, l); err != nil {
			return err
		}
	}
	return nil
}

func (st *State) checkAssociation(a Association, l Limits) error {
	stage, err := ParseEvent(a.Event)
	if err != nil {
		return err
	}
	r, err := st.ResolveAssociation(a)
	if err != nil {
		return err
	}
	for _, t := range r.Targets() {
		if hooks.IsCloudFrontFunctions(t.Runtime) && !stage.IsViewer() {
			return invalid("%s:%s is a cloudfront-functions function; it can run on viewer events only, not %s", t.Function, t.Version, a.Event)
		}
		if lim := l.ForEvent(stage); t.Code.Size > lim {
			return &TooLargeError{What: fmt.Sprintf("package of %s:%s (for %s)", t.Function, t.Version, a.Event), Size: t.Code.Size, Limit: lim}
		}
	}
	return nil
}
