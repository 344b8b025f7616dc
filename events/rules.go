package events

import (
	"fmt"
	"slices"
	"strings"
)

// opBit is an Operation as a bit of a rule's operation set.
func opBit(op Operation) uint8 {
	switch op {
	case OpPublish:
		return 1
	case OpSubscribe:
		return 2
	}
	return 0
}

// rule is a compiled ChannelRule.
type rule struct {
	segs     []ruleSeg // without the trailing "*"
	wildcard bool
	ops      uint8
	groups   []string
}

// ruleSeg is one segment: literal text and templates, concatenated.
type ruleSeg []rulePart

type rulePart struct {
	lit   string
	field string // "" for a literal; "sub", "username" or "claim:<name>"
}

// namespace is a compiled Namespace.
type namespace struct {
	name           string
	publishModes   []AuthMode
	subscribeModes []AuthMode
	rules          []rule
	restricted     uint8 // operations some rule names
}

func compileNamespace(ns Namespace) (*namespace, error) {
	c := &namespace{name: ns.Name, publishModes: ns.PublishAuthModes, subscribeModes: ns.SubscribeAuthModes}
	for i, r := range ns.ChannelRules {
		cr, err := compileRule(ns.Name, r)
		if err != nil {
			return nil, fmt.Errorf("namespace %s channelRules[%d]: %w", ns.Name, i, err)
		}
		c.rules = append(c.rules, cr)
		c.restricted |= cr.ops
	}
	return c, nil
}

func compileRule(ns string, r ChannelRule) (rule, error) {
	var out rule
	for _, op := range r.Operations {
		b := opBit(op)
		if b == 0 {
			return rule{}, fmt.Errorf("operation %q: want PUBLISH or SUBSCRIBE", op)
		}
		out.ops |= b
	}
	if out.ops == 0 {
		return rule{}, fmt.Errorf("channel %q: no operations", r.Channel)
	}
	out.groups = r.Groups
	p := strings.TrimSuffix(strings.TrimPrefix(r.Channel, "/"), "/")
	segs := strings.Split(p, "/")
	if len(segs) > MaxSegments {
		return rule{}, fmt.Errorf("channel %q: more than %d segments", r.Channel, MaxSegments)
	}
	if segs[0] != ns {
		return rule{}, fmt.Errorf("channel %q must start with its namespace /%s", r.Channel, ns)
	}
	for i, s := range segs {
		if s == "*" {
			if i != len(segs)-1 || i == 0 {
				return rule{}, fmt.Errorf("channel %q: \"*\" only as the last segment", r.Channel)
			}
			out.wildcard = true
			break
		}
		seg, err := compileSegment(s)
		if err != nil {
			return rule{}, fmt.Errorf("channel %q: %w", r.Channel, err)
		}
		out.segs = append(out.segs, seg)
	}
	return out, nil
}

// compileSegment splits "user-{sub}" into literal and template parts.
func compileSegment(s string) (ruleSeg, error) {
	var seg ruleSeg
	rest := s
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			seg = append(seg, rulePart{lit: rest})
			break
		}
		if open > 0 {
			seg = append(seg, rulePart{lit: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("segment %q: unclosed {", s)
		}
		field := rest[open+1 : open+end]
		if field != "sub" && field != "username" && !(strings.HasPrefix(field, "claim:") && len(field) > len("claim:")) {
			return nil, fmt.Errorf("segment %q: unknown template {%s} (want {sub}, {username} or {claim:name})", s, field)
		}
		seg = append(seg, rulePart{field: field})
		rest = rest[open+end+1:]
	}
	// Literal text must be segment text: check it with a stand-in value.
	var probe strings.Builder
	for _, p := range seg {
		if p.field != "" {
			probe.WriteString("x")
		} else {
			probe.WriteString(p.lit)
		}
	}
	if !ValidSegment(probe.String()) {
		return nil, fmt.Errorf("segment %q is not a valid channel segment", s)
	}
	return seg, nil
}

// value fills the segment from id; ok is false when a template has no
// value or the result is not a valid segment (so "/" or "*" in a claim can
// never widen a rule).
func (s ruleSeg) value(id *Identity) (string, bool) {
	if len(s) == 1 && s[0].field == "" {
		return s[0].lit, true
	}
	var b strings.Builder
	for _, p := range s {
		if p.field == "" {
			b.WriteString(p.lit)
			continue
		}
		var v string
		switch {
		case p.field == "sub":
			v = id.Sub
		case p.field == "username":
			v = id.Username
		default:
			v = claimString(id.Claims, strings.TrimPrefix(p.field, "claim:"))
		}
		if v == "" {
			return "", false
		}
		b.WriteString(v)
	}
	v := b.String()
	return v, ValidSegment(v)
}

// prefixMatches reports whether the rule's segments equal segs[:len(r.segs)].
func (r *rule) prefixMatches(segs []string, id *Identity) bool {
	for i, rs := range r.segs {
		v, ok := rs.value(id)
		if !ok || v != segs[i] {
			return false
		}
	}
	return true
}

// covers reports whether every channel ch can stand for is allowed by r:
// for a channel, r matches it; for a pattern prefix/*, r is a wildcard
// rule whose prefix is a prefix of (or equal to) the pattern's prefix.
func (r *rule) covers(ch Channel, id *Identity) bool {
	segs := ch.Segments()
	if ch.Wildcard() {
		prefix := segs[:len(segs)-1]
		return r.wildcard && len(r.segs) <= len(prefix) && r.prefixMatches(prefix, id)
	}
	if r.wildcard {
		return len(segs) > len(r.segs) && r.prefixMatches(segs, id)
	}
	return len(segs) == len(r.segs) && r.prefixMatches(segs, id)
}

func (r *rule) inGroups(id *Identity) bool {
	if len(r.groups) == 0 {
		return true
	}
	for _, g := range id.Groups {
		if slices.Contains(r.groups, g) {
			return true
		}
	}
	return false
}

// allows reports whether the channel rules let id do op on ch.
func (ns *namespace) allows(op Operation, ch Channel, id *Identity) bool {
	bit := opBit(op)
	if ns.restricted&bit == 0 {
		return true
	}
	for i := range ns.rules {
		r := &ns.rules[i]
		if r.ops&bit != 0 && r.inGroups(id) && r.covers(ch, id) {
			return true
		}
	}
	return false
}
