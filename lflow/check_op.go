package lflow

import "fmt"

// checkOp validates the arguments of the actions whose arguments have a
// fixed vocabulary. Others are checked only for their shape.
func checkOp(o Op) error {
	switch o.Name {
	case "next":
		return checkNext(o.Args)
	case "log":
		return checkKeys(o.Args, logKeys)
	}
	return nil
}

func checkNext(args []Arg) error {
	if len(args) == 1 && args[0].Key == nil {
		return checkTable(args[0].Value)
	}
	if err := checkKeys(args, nextKeys); err != nil {
		return err
	}
	for _, a := range args {
		if a.Key.Word == "table" {
			if err := checkTable(a.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkTable(v Value) error {
	if v.Kind != ConstValue || v.Const.IsStr || v.Const.Masked || v.Const.Value.Len() > 8 {
		return fmt.Errorf("table must be an integer 0..255")
	}
	return nil
}

// keys maps each allowed key to its allowed bare words (nil: any value).
type keys map[string][]string

var nextKeys = keys{"pipeline": {"ingress", "egress"}, "table": nil}

var logKeys = keys{
	"verdict":  {"allow", "drop", "reject"},
	"severity": {"alert", "warning", "notice", "info", "debug"},
	"name":     nil,
	"meter":    nil,
}

func checkKeys(args []Arg, allowed keys) error {
	for _, a := range args {
		if a.Key == nil || a.Key.Kind != WordValue {
			return fmt.Errorf("expected key=value arguments")
		}
		words, ok := allowed[a.Key.Word]
		if !ok {
			return fmt.Errorf("unknown argument %s", a.Key.Word)
		}
		if words != nil && !contains(words, a.Value.Word) {
			return fmt.Errorf("%s must be one of %v", a.Key.Word, words)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
