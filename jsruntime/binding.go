package jsruntime

import (
	"strings"

	"github.com/dop251/goja"
	"github.com/vergecdn/verge/hooks"
)

// binding converts between the neutral hooks model and one dialect's JS values. Both methods
// run on the vm's goroutine with the invocation's deadline armed (result may run JS getters).
type binding interface {
	// event builds the handler's argument from copies of ev's strings.
	event(v *vm, ev *hooks.Event) (goja.Value, error)
	// result reads what the handler returned. Shape errors are hooks.Validation errors;
	// CloudFront's semantic rules are left to hooks.Validate.
	result(v *vm, ev *hooks.Event, val goja.Value) (hooks.Result, error)
}

func (p *program) binding() binding {
	if p.script != nil {
		return cffBinding{}
	}
	return leBinding{}
}

// lowerASCII lower-cases s without allocating when it is already lower case.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}
