package main

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vergecdn/verge/registry"
)

// newFnCmds returns the `verge fn` verbs that talk to a node's admin API (docs/operations.md):
// deploy, publish, alias, associate, dissociate, list, get, versions, delete, invoke, logs.
// Each takes --admin URL (VERGE_ADMIN), --token (VERGE_TOKEN) and --json; a failure returns
// an error with a one-line reason (main exits non-zero).
func newFnCmds() []*cobra.Command {
	return []*cobra.Command{
		newFnDeployCmd(), newFnPublishCmd(), newFnAliasCmd(), newFnAssociateCmd(), newFnDissociateCmd(),
		newFnListCmd(), newFnGetCmd(), newFnVersionsCmd(), newFnDeleteCmd(), newFnInvokeCmd(), newFnLogsCmd(),
	}
}

func fnPath(name string, rest ...string) string {
	p := "/v1/functions/" + url.PathEscape(name)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

// newFnDeployCmd is `verge fn deploy NAME --file F | --dir D [--runtime R]`.
func newFnDeployCmd() *cobra.Command {
	var cf clientFlags
	var file, dir, runtime, entry, desc, store string
	cmd := &cobra.Command{
		Use:   "deploy NAME --file F | --dir D [--runtime R] [--kvs STORE]",
		Short: "Create a function or update its $LATEST code",
		Long: `Create a function or update its $LATEST code.

The node compiles the code and runs its top-level code once before storing it: code that does
not load (a syntax error, a throw or a loop at load, no handler, a construct the runtime
refuses) is refused with a message saying why (400), and $LATEST keeps its previous code.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var pkg []byte
			var err error
			switch {
			case (file == "") == (dir == ""):
				return fmt.Errorf("give exactly one of --file and --dir")
			case file != "":
				pkg, err = os.ReadFile(file)
			default:
				pkg, err = zipDir(dir)
			}
			if err != nil {
				return err
			}
			if strings.EqualFold(filepath.Ext(file), ".zip") && !registry.IsZip(pkg) {
				return fmt.Errorf("%s is not a valid zip archive (it does not start as one); give a .js file or a zip", file)
			}
			q := url.Values{}
			if base := filepath.Base(file); file != "" && entry == "" && !registry.IsZip(pkg) && registry.SingleFileName(base) {
				entry = base // the node keeps the file's name: its errors and stack traces name it
			}
			for k, v := range map[string]string{"runtime": runtime, "entry": entry, "description": desc} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if cmd.Flags().Changed("kvs") {
				q.Set("kvs", store)
			}
			c := cf.client()
			var f registry.Function
			if err := c.do(cmd.Context(), "PUT", fnPath(args[0], "code")+"?"+q.Encode(), bytes.NewReader(pkg), &f); err != nil {
				return err
			}
			if c.json {
				return printJSON(cmd.OutOrStdout(), f)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deployed %s:$LATEST (%s, %d bytes, sha256 %s)\n", f.Name, f.Runtime, f.Latest.Size, f.Latest.SHA256[:12])
			return nil
		},
	}
	cf.bind(cmd)
	cmd.Flags().StringVar(&file, "file", "", "one JavaScript file (it keeps its name), or a .zip package")
	cmd.Flags().StringVar(&dir, "dir", "", "a directory to package (zipped with all its files)")
	cmd.Flags().StringVar(&runtime, "runtime", "", "lambda-edge (default for a new function), cloudfront-js-1.0 or cloudfront-js-2.0 (cloudfront-functions is an alias of 2.0)")
	cmd.Flags().StringVar(&entry, "entry", "", "the handler's file in a package (default index.js, or the only .js file; a single file keeps its own name)")
	cmd.Flags().StringVar(&desc, "description", "", "the function's description")
	cmd.Flags().StringVar(&store, "kvs", "", "the KeyValueStore the function reads with cf.kvs() (cloudfront-js-2.0; \"\" removes it; default: unchanged)")
	return cmd
}

// newFnPublishCmd is `verge fn publish NAME [--description S]`; it prints the version number.
func newFnPublishCmd() *cobra.Command {
	var cf clientFlags
	var desc string
	cmd := &cobra.Command{
		Use:   "publish NAME [--description S]",
		Short: "Publish $LATEST as an immutable numbered version (prints its number)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, _ := jsonBody(map[string]string{"description": desc})
			c := cf.client()
			var v registry.Version
			if err := c.do(cmd.Context(), "POST", fnPath(args[0], "versions"), body, &v); err != nil {
				return err
			}
			if c.json {
				return printJSON(cmd.OutOrStdout(), v)
			}
			fmt.Fprintln(cmd.OutOrStdout(), v.Number)
			return nil
		},
	}
	cf.bind(cmd)
	cmd.Flags().StringVar(&desc, "description", "", "the version's description")
	return cmd
}

// newFnAliasCmd is `verge fn alias NAME ALIAS VERSION [--weight V=0.1] [--wait]`; --wait
// then follows the fleet's convergence (waitConverged).
func newFnAliasCmd() *cobra.Command {
	var cf clientFlags
	var weight string
	var wait bool
	var waitTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "alias NAME ALIAS VERSION [--weight V=0.1] [--wait]",
		Short: "Create or move an alias (--weight sends a share of requests to another version)",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, ok := registry.VersionNumber(args[2])
			if !ok {
				return fmt.Errorf("VERSION %q: want a version number", args[2])
			}
			spec := registry.AliasSpec{Version: n}
			if weight != "" {
				v, w, err := parseWeight(weight)
				if err != nil {
					return err
				}
				spec.AdditionalVersion, spec.Weight = v, w
			}
			body, _ := jsonBody(spec)
			c := cf.client()
			var before fleetView
			if wait {
				var err error
				if before, err = fleetMembers(cmd.Context(), c); err != nil {
					return err
				}
			}
			var a registry.Alias
			if err := c.do(cmd.Context(), "PUT", fnPath(args[0], "aliases", args[1]), body, &a); err != nil {
				return err
			}
			progress := cmd.OutOrStdout()
			if c.json {
				if err := printJSON(cmd.OutOrStdout(), a); err != nil {
					return err
				}
				progress = cmd.ErrOrStderr()
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "%s:%s -> %s\n", a.Function, a.Name, aliasTarget(a))
			}
			if wait {
				return waitConverged(cmd.Context(), c, progress, before, waitTimeout, args[0])
			}
			return nil
		},
	}
	cf.bind(cmd)
	cmd.Flags().StringVar(&weight, "weight", "", "VERSION=WEIGHT: another version and the share of requests (0..1) it gets")
	cmd.Flags().BoolVar(&wait, "wait", false, "then wait until every alive node of the fleet runs the change (the new version fetched, compiled and attached), printing \"converged N/M nodes\"")
	cmd.Flags().DurationVar(&waitTimeout, "wait-timeout", time.Minute, "with --wait, fail if the fleet has not converged after this long")
	return cmd
}

// parseWeight parses --weight's "VERSION=WEIGHT".
func parseWeight(s string) (int, float64, error) {
	v, w, ok := strings.Cut(s, "=")
	n, isNum := registry.VersionNumber(v)
	f, err := strconv.ParseFloat(w, 64)
	if !ok || !isNum || err != nil || f < 0 || f > 1 {
		return 0, 0, fmt.Errorf("--weight %q: want VERSION=WEIGHT, e.g. 2=0.1", s)
	}
	return n, f, nil
}

// newFnAssociateCmd is `verge fn associate BEHAVIOR EVENT NAME:QUALIFIER`.
func newFnAssociateCmd() *cobra.Command {
	var cf clientFlags
	var includeBody bool
	cmd := &cobra.Command{
		Use:   "associate BEHAVIOR EVENT NAME:QUALIFIER",
		Short: `Run a function version or alias on a behavior's event (BEHAVIOR: its path pattern, or "default")`,
		Long: `Run a function version or alias on a behavior's event (BEHAVIOR: its path pattern, or "default").

QUALIFIER is a published version (NAME:3) or an alias (NAME:live). As on Lambda@Edge, $LATEST
(or no qualifier) is refused: publish first (verge fn publish NAME), so that a deploy never goes
live unpublished.`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, q, err := registry.ParseRef(args[2])
			if err != nil {
				return err
			}
			body, _ := jsonBody(map[string]any{"function": name, "qualifier": q, "includeBody": includeBody})
			c := cf.client()
			var a registry.Association
			if err := c.do(cmd.Context(), "PUT", assocPath(args[0], args[1]), body, &a); err != nil {
				return err
			}
			if c.json {
				return printJSON(cmd.OutOrStdout(), a)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s -> %s:%s\n", a.Behavior, a.Event, a.Function, a.Qualifier)
			return nil
		},
	}
	cf.bind(cmd)
	cmd.Flags().BoolVar(&includeBody, "include-body", false, "expose the request body to the function")
	return cmd
}

func assocPath(behavior, event string) string {
	return "/v1/associations/" + url.PathEscape(behavior) + "/" + url.PathEscape(event)
}

// newFnDissociateCmd is `verge fn dissociate BEHAVIOR EVENT`.
func newFnDissociateCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "dissociate BEHAVIOR EVENT",
		Short: "Remove the function from a behavior's event",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := cf.client()
			if err := c.do(cmd.Context(), "DELETE", assocPath(args[0], args[1]), nil, nil); err != nil {
				return err
			}
			if c.json {
				return printJSON(cmd.OutOrStdout(), map[string]string{"behavior": args[0], "event": args[1], "status": "dissociated"})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "dissociated %s %s\n", args[0], args[1])
			return nil
		},
	}
	cf.bind(cmd)
	return cmd
}
