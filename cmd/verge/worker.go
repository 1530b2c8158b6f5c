package main

import (
	"os"

	"github.com/spf13/cobra"
	"github.com/vergecdn/verge/jsruntime"
)

// newWorkerCmd is the hidden `verge worker` verb: a sandboxed process hosting one function
// version for Process isolation. It speaks jsruntime's frame protocol through the shared memory
// it inherits as descriptor 3, with stdin and stdout as wake-ups, and is started only by
// jsruntime itself.
func newWorkerCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "worker",
		Short:  "Run JavaScript functions in a sandboxed worker process (internal)",
		Hidden: true,
		Args:   cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			os.Exit(jsruntime.ServeWorker())
		},
	}
}
