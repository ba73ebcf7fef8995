// Command difftest runs ovn-nbctl scripts (see difftest.ParseScript)
// through a real ovn-northd 23.03 and through ovnd's northd, and prints
// per stage how many logical flows are identical, missing from ovnd or
// extra in ovnd, followed by the differing flows.
//
//	go run ./northd/difftest/difftest northd/difftest/testdata/*.txt
//
// It exits 1 when any scenario differs.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/ovnd/ovnd/northd/difftest"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: difftest SCRIPT...")
		os.Exit(2)
	}
	differs := false
	for _, f := range os.Args[1:] {
		clean, err := runScript(f)
		if err != nil {
			fmt.Fprintf(os.Stderr, "difftest: %s: %v\n", f, err)
			os.Exit(2)
		}
		differs = differs || !clean
	}
	if differs {
		os.Exit(1)
	}
}

func runScript(path string) (bool, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	cmds, err := difftest.ParseScript(string(text))
	if err != nil {
		return false, err
	}
	if err := difftest.Available(); err != nil {
		return false, err
	}
	dir, err := os.MkdirTemp("", "nd")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	e, err := difftest.Start(dir, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return false, err
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, c := range cmds {
		if err := e.NBCtl(ctx, c...); err != nil {
			return false, err
		}
	}
	if err := e.Sync(ctx); err != nil {
		return false, err
	}
	d, err := e.Diff(ctx)
	if err != nil {
		return false, err
	}
	fmt.Printf("== %s\n%s", path, difftest.Report(d))
	return difftest.Clean(d), nil
}
