package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vergecdn/verge/deploy"
	"github.com/vergecdn/verge/registry"
)

// newFnListCmd is `verge fn list`.
func newFnListCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the node's functions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := cf.client()
			var out struct {
				Functions []registry.Function `json:"functions"`
			}
			if err := c.do(cmd.Context(), "GET", "/v1/functions", nil, &out); err != nil {
				return err
			}
			if c.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tRUNTIME\tLAST VERSION\tLATEST SHA256\tUPDATED\tDESCRIPTION")
			for _, f := range out.Functions {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Name, f.Runtime, versionOrDash(f.LastVersion), f.Latest.SHA256[:12], f.Time.Format(time.RFC3339), f.Description)
			}
			return tw.Flush()
		},
	}
	cf.bind(cmd)
	return cmd
}

func versionOrDash(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

type functionInfo struct {
	registry.Function
	Versions     []registry.Version     `json:"versions"`
	Aliases      []registry.Alias       `json:"aliases"`
	Associations []registry.Association `json:"associations"`
}

// newFnGetCmd is `verge fn get NAME`.
func newFnGetCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "Show a function: $LATEST, versions, aliases, associations",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := cf.client()
			var f functionInfo
			if err := c.do(cmd.Context(), "GET", fnPath(args[0]), nil, &f); err != nil {
				return err
			}
			if c.json {
				return printJSON(cmd.OutOrStdout(), f)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "name:         %s\nruntime:      %s\ndescription:  %s\n", f.Name, f.Runtime, f.Description)
			fmt.Fprintf(w, "$LATEST:      sha256 %s, %d bytes (%s, entry %s), updated %s by node %s\n",
				f.Latest.SHA256, f.Latest.Size, f.Latest.Format, f.Latest.Entry, f.Time.Format(time.RFC3339), f.Node)
			fmt.Fprintf(w, "versions:     %d (last %s)\n", len(f.Versions), versionOrDash(f.LastVersion))
			for _, a := range f.Aliases {
				fmt.Fprintf(w, "alias:        %s -> %s\n", a.Name, aliasTarget(a))
			}
			for _, a := range f.Associations {
				fmt.Fprintf(w, "associated:   %s %s -> %s:%s\n", a.Behavior, a.Event, a.Function, a.Qualifier)
			}
			return nil
		},
	}
	cf.bind(cmd)
	return cmd
}

func aliasTarget(a registry.Alias) string {
	if a.AdditionalVersion == 0 {
		return strconv.Itoa(a.Version)
	}
	return fmt.Sprintf("%d (%g%%), %d (%g%%)", a.Version, 100*(1-a.Weight), a.AdditionalVersion, 100*a.Weight)
}

// newFnVersionsCmd is `verge fn versions NAME`.
func newFnVersionsCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "versions NAME",
		Short: "List a function's published versions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := cf.client()
			var out struct {
				Versions []registry.Version `json:"versions"`
			}
			if err := c.do(cmd.Context(), "GET", fnPath(args[0], "versions"), nil, &out); err != nil {
				return err
			}
			if c.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VERSION\tSHA256\tSIZE\tRUNTIME\tCREATED\tDESCRIPTION")
			for _, v := range out.Versions {
				fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\n", v.Number, v.Code.SHA256[:12], v.Code.Size, v.Runtime, v.Created.Format(time.RFC3339), v.Description)
			}
			return tw.Flush()
		},
	}
	cf.bind(cmd)
	return cmd
}

// newFnDeleteCmd is `verge fn delete NAME[:VERSION]`.
func newFnDeleteCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "delete NAME[:VERSION]",
		Short: "Delete a function (with its versions and aliases) or one version",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, q, err := registry.ParseRef(args[0])
			if err != nil {
				return err
			}
			path, what := fnPath(name), name
			if q != registry.Latest || len(args[0]) > len(name) {
				if _, ok := registry.VersionNumber(q); !ok {
					return fmt.Errorf("%q: delete takes NAME or NAME:VERSION (a number)", args[0])
				}
				path, what = fnPath(name, "versions", q), name+":"+q
			}
			c := cf.client()
			if err := c.do(cmd.Context(), "DELETE", path, nil, nil); err != nil {
				return err
			}
			if c.json {
				return printJSON(cmd.OutOrStdout(), map[string]string{"deleted": what})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", what)
			return nil
		},
	}
	cf.bind(cmd)
	return cmd
}

// newFnInvokeCmd is `verge fn invoke NAME[:QUALIFIER] --event F`. It prints `verge fn test`'s
// JSON ({"output", "logs", "durationMs", "error"} plus "function" and "version") and exits
// non-zero when the function failed.
func newFnInvokeCmd() *cobra.Command {
	var cf clientFlags
	var event string
	cmd := &cobra.Command{
		Use:   "invoke NAME[:QUALIFIER] --event F",
		Short: "Test-invoke a deployed function on an event",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, q, err := registry.ParseRef(args[0])
			if err != nil {
				return err
			}
			ev, err := os.ReadFile(event)
			if err != nil {
				return err
			}
			var rep deploy.Report
			if err := cf.client().do(cmd.Context(), "POST", fnPath(name, "invoke")+"?qualifier="+q, bytesReader(ev), &rep); err != nil {
				return err
			}
			if err := printJSON(cmd.OutOrStdout(), rep); err != nil {
				return err
			}
			if rep.Error != nil {
				return fmt.Errorf("%s:%s failed: %s", name, rep.Version, oneLine(*rep.Error))
			}
			return nil
		},
	}
	cf.bind(cmd)
	cmd.Flags().StringVar(&event, "event", "", "the event JSON file (Lambda@Edge or CloudFront Functions shape)")
	_ = cmd.MarkFlagRequired("event")
	return cmd
}

// newFnLogsCmd is `verge fn logs NAME [--follow]`.
func newFnLogsCmd() *cobra.Command {
	var cf clientFlags
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs NAME [--follow]",
		Short: "Print a function's recent console output (--follow: and keep printing)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := cf.client()
			w := cmd.OutOrStdout()
			if !follow {
				var out struct {
					Logs []deploy.LogEntry `json:"logs"`
				}
				if err := c.do(cmd.Context(), "GET", fnPath(args[0], "logs"), nil, &out); err != nil {
					return err
				}
				for _, e := range out.Logs {
					printLog(w, c.json, e)
				}
				return nil
			}
			resp, err := c.send(cmd.Context(), "GET", fnPath(args[0], "logs")+"?follow=1", nil)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				var e deploy.LogEntry
				if json.Unmarshal(sc.Bytes(), &e) == nil {
					printLog(w, c.json, e)
				}
			}
			if cmd.Context().Err() != nil {
				return nil // interrupted: a normal end of --follow
			}
			if err := sc.Err(); err != nil {
				return err
			}
			return errors.New("fn logs: the node ended the stream (it is stopping or restarting)")
		},
	}
	cf.bind(cmd)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines")
	return cmd
}

func printLog(w io.Writer, asJSON bool, e deploy.LogEntry) {
	if asJSON {
		data, _ := json.Marshal(e)
		fmt.Fprintf(w, "%s\n", data)
		return
	}
	fmt.Fprintf(w, "%s %-5s %s:%s %s %s\n", e.Time.Format(time.RFC3339Nano), e.Level, e.Function, e.Version, e.RequestID, e.Message)
}
