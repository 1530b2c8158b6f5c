package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vergecdn/verge/cluster"
)

// clusterAdminFlags are the flags of the CLI verbs that call a node's admin API.
type clusterAdminFlags struct {
	admin, token string
	json         bool
}

func (f *clusterAdminFlags) register(cmd *cobra.Command) {
	admin := os.Getenv("VERGE_ADMIN")
	if admin == "" {
		admin = "http://127.0.0.1:8081"
	}
	cmd.Flags().StringVar(&f.admin, "admin", admin, "admin API URL (env VERGE_ADMIN)")
	cmd.Flags().StringVar(&f.token, "token", os.Getenv("VERGE_TOKEN"), "admin API bearer token (env VERGE_TOKEN)")
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON for scripts")
}

// call sends one admin request and returns the response body of a 2xx answer; any other status
// becomes an error carrying the server's {"error": ...} message.
func (f *clusterAdminFlags) call(cmd *cobra.Command, method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	base := strings.TrimRight(f.admin, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	req, err := http.NewRequestWithContext(cmd.Context(), method, base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if f.token != "" {
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		var e struct{ Error string }
		if json.Unmarshal(out, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("%s %s: %s", method, path, e.Error)
		}
		return nil, fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return out, nil
}

// newClusterCmd is `verge cluster members`: the fleet as the node at --admin sees it.
func newClusterCmd() *cobra.Command {
	root := &cobra.Command{Use: "cluster", Short: "Inspect the fleet"}
	var f clusterAdminFlags
	members := &cobra.Command{
		Use:   "members",
		Short: "List the fleet's members, their state and the registry digest each holds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, err := f.call(cmd, http.MethodGet, "/v1/cluster/members", nil)
			if err != nil {
				return err
			}
			if f.json {
				_, err := cmd.OutOrStdout().Write(body)
				return err
			}
			var resp struct {
				Members []cluster.Member `json:"members"`
			}
			if err := json.Unmarshal(body, &resp); err != nil {
				return fmt.Errorf("members: %w", err)
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
	f.register(members)
	root.AddCommand(members)
	return root
}

// newCachePurgeCmd is `verge cache purge PATTERN [--soft]`: purge the fleet's caches (every node
// when the node at --admin is in a fleet, else that node).
func newCachePurgeCmd() *cobra.Command {
	var f clusterAdminFlags
	var soft bool
	cmd := &cobra.Command{
		Use:   "purge PATTERN",
		Short: "Purge cached objects: /a/b, /images/*, tag:KEY or all",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := f.call(cmd, http.MethodPost, "/v1/cache/purge", cluster.PurgeRequest{Pattern: args[0], Soft: soft})
			if err != nil {
				return err
			}
			if f.json {
				_, err := cmd.OutOrStdout().Write(body)
				return err
			}
			var resp cluster.PurgeResponse
			if err := json.Unmarshal(body, &resp); err != nil {
				return fmt.Errorf("purge: %w", err)
			}
			where := "this node"
			if resp.Fleet {
				where = "this node; every node of the fleet purges too"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "purged %s: %d objects on %s\n", resp.Pattern, resp.Purged, where)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&soft, "soft", false, "mark objects stale instead of removing them")
	return cmd
}
