package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vergecdn/verge/cluster"
)

// newClusterCmd is `verge cluster members` (the fleet as the node at --admin sees it) and
// `verge cluster keygen` (a fleet signing key pair).
func newClusterCmd() *cobra.Command {
	root := &cobra.Command{Use: "cluster", Short: "Inspect the fleet, make its signing key"}
	var f clientFlags
	members := &cobra.Command{
		Use:   "members",
		Short: "List the fleet's members, their state and the registry digest each holds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var resp struct {
				Members []cluster.Member `json:"members"`
			}
			if err := f.client().do(cmd.Context(), http.MethodGet, "/v1/cluster/members", nil, &resp); err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), resp)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tADDRESS\tSTATE\tDIGEST\tIN SYNC\tSINCE")
			for _, m := range resp.Members {
				name, digest, sync := m.Name, m.Digest, "no"
				if m.Local {
					name += " (this node)"
				}
				if len(digest) > 12 {
					digest = digest[:12]
				}
				if digest == "" {
					digest = "-"
				}
				if m.InSync {
					sync = "yes"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", name, m.Addr, m.State, digest, sync, m.Since.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	f.bind(members)
	root.AddCommand(members, newKeygenCmd())
	return root
}

// newCachePurgeCmd is `verge cache purge PATTERN [--soft] [--host H]`: purge the fleet's caches
// (every node when the node at --admin is in a fleet, else that node).
func newCachePurgeCmd() *cobra.Command {
	var f clientFlags
	var soft bool
	var host string
	cmd := &cobra.Command{
		Use:   "purge PATTERN [--soft] [--host H]",
		Short: "Purge cached objects: /a/b, /images/*, tag:KEY or all",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := json.Marshal(cluster.PurgeRequest{Pattern: args[0], Soft: soft, Host: host})
			if err != nil {
				return err
			}
			var resp cluster.PurgeResponse
			if err := f.client().do(cmd.Context(), http.MethodPost, "/v1/cache/purge", bytes.NewReader(req), &resp); err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), resp)
			}
			where := "this node"
			if resp.Fleet {
				where = "this node; every node of the fleet purges too"
			}
			noun, verb := "objects", "purged"
			if resp.Purged == 1 {
				noun = "object"
			}
			if resp.Soft {
				verb = "marked stale"
			}
			what := resp.Pattern
			if resp.Host != "" {
				what += " of " + resp.Host
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s: %d %s on %s\n", verb, what, resp.Purged, noun, where)
			return nil
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&soft, "soft", false, "mark objects stale instead of removing them: the next request revalidates")
	cmd.Flags().StringVar(&host, "host", "", "purge only the objects of this site (its Host)")
	return cmd
}
