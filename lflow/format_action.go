package lflow

import (
	"fmt"
	"strings"
)

// FormatActions renders actions in canonical text: each action ends in
// ";", actions are separated by one space, bodies are written
// "{ a; b; }" and arguments "key=value" separated by ", ".
func FormatActions(acts []Action) string {
	parts := make([]string, len(acts))
	for i, a := range acts {
		parts[i] = FormatAction(a) + ";"
	}
	return strings.Join(parts, " ")
}

// FormatAction renders one action without its trailing ";".
func FormatAction(a Action) string {
	switch a := a.(type) {
	case Assign:
		return a.Dst.String() + " = " + a.Src.String()
	case Exchange:
		return a.A.String() + " <-> " + a.B.String()
	case Decrement:
		return a.Field.String() + "--"
	case Op:
		return formatOp(a)
	}
	return fmt.Sprintf("<%T>", a)
}

func formatOp(o Op) string {
	var b strings.Builder
	if o.Result != nil {
		b.WriteString(o.Result.String() + " = ")
	}
	b.WriteString(o.Name)
	if o.Parens {
		b.WriteString("(")
		if o.LB != nil {
			b.WriteString(o.LB.String())
		} else {
			b.WriteString(formatArgs(o.Args, ", "))
		}
		b.WriteString(")")
	}
	if o.HasBody {
		if len(o.Body) == 0 {
			b.WriteString(" { }")
		} else {
			b.WriteString(" { " + FormatActions(o.Body) + " }")
		}
	}
	return b.String()
}

func formatArgs(args []Arg, sep string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = a.String()
	}
	return strings.Join(parts, sep)
}

// String renders an argument: value or key=value.
func (a Arg) String() string {
	if a.Key == nil {
		return a.Value.String()
	}
	return a.Key.String() + "=" + a.Value.String()
}

// String renders a value as it would be written.
func (v Value) String() string {
	switch v.Kind {
	case RefValue:
		return v.Ref.String()
	case WordValue:
		return v.Word
	case RangeValue:
		return v.Const.String() + "-" + v.High.String()
	case ListValue:
		parts := make([]string, len(v.List))
		for i, x := range v.List {
			parts[i] = x.String()
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return v.Const.String()
}

// String renders ct_lb arguments: backends=a,b; option; option=value.
func (lb *LB) String() string {
	var b strings.Builder
	if len(lb.Backends) > 0 {
		b.WriteString("backends=")
		for i, be := range lb.Backends {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(be.String())
		}
	}
	for i, o := range lb.Options {
		if i > 0 || len(lb.Backends) > 0 || !startsWithWord(o) {
			// Without backends, only an option that starts with a
			// word parses without its semicolon: ct_lb(; "x").
			b.WriteString("; ")
		}
		b.WriteString(o.String())
	}
	return b.String()
}

// startsWithWord reports whether a renders starting with a word or a
// field name.
func startsWithWord(a Arg) bool {
	v := a.Value
	if a.Key != nil {
		v = *a.Key
	}
	return v.Kind == WordValue || v.Kind == RefValue
}

// String renders a backend: 10.0.0.1, 10.0.0.1:80, fd00::1, [fd00::1]:80.
func (be Backend) String() string {
	ip := be.IP.String()
	switch {
	case be.Port == 0:
		return ip
	case be.IP.Format == IPv6:
		return fmt.Sprintf("[%s]:%d", ip, be.Port)
	}
	return fmt.Sprintf("%s:%d", ip, be.Port)
}
