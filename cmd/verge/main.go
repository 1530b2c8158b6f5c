// Command verge is Verge's one binary: `verge serve` runs an edge node, and the other verbs are
// the CLI that operators and function developers use (see docs/operations.md). This package parses flags
// and wires packages together; it holds no logic of its own.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "verge:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "verge",
		Short:         "Verge: a self-hosted CDN edge node with functions",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	fn := &cobra.Command{Use: "fn", Short: "Develop and deploy functions"}
	fn.AddCommand(newFnTestCmd())
	fn.AddCommand(newFnCmds()...)
	cache := &cobra.Command{Use: "cache", Short: "Manage the cache"}
	cache.AddCommand(newCachePurgeCmd())
	root.AddCommand(newServeCmd(), fn, cache, newClusterCmd(), newWorkerCmd(), newVersionCmd(), newHealthCmd(), newKVSCmd())
	return root
}
