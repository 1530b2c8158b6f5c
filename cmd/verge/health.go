package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// newHealthCmd is `verge health`: a probe for containers and service managers that have no
// curl, such as a distroless image's HEALTHCHECK. It asks the node's /healthz, or /readyz
// with --ready, and exits 0 only on a 200, printing "ok" ({"status":"ok","check":PATH} with
// --json).
func newHealthCmd() *cobra.Command {
	var f clientFlags
	var ready bool
	cmd := &cobra.Command{
		Use:   "health [--ready] [--admin URL]",
		Short: "Exit 0 if a node answers its health check (/healthz; /readyz with --ready)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := "/healthz"
			if ready {
				path = "/readyz"
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Second)
			defer cancel()
			c := f.client()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
			if err != nil {
				return err
			}
			resp, err := c.http.Do(req)
			if err != nil {
				return fmt.Errorf("health: %w", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("health: %s answered %s", c.base+path, resp.Status)
			}
			if f.json {
				fmt.Fprintf(cmd.OutOrStdout(), "{\"status\":\"ok\",\"check\":%q}\n", path)
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), "ok")
			}
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&ready, "ready", false, "ask /readyz: is the node taking traffic (not draining)")
	return cmd
}
