package main

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vergecdn/verge/kvs"
)

// newKVSCmd is `verge kvs`: the KeyValueStores CloudFront functions read with cf.kvs(),
// through a node's admin API (the same --admin, --token and --json flags as `verge fn`).
func newKVSCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "kvs", Short: "Manage KeyValueStores (cf.kvs() in CloudFront Functions)"}
	cmd.AddCommand(
		kvsVerb("create STORE [--file IMPORT.json]", "Create a store, empty or from a file in CloudFront's import format", 1, true,
			func(args []string) (string, string) { return "POST", kvsPath(args[0]) }),
		kvsVerb("import STORE --file IMPORT.json", "Put every item of an import file into a store (created if needed)", 1, true,
			func(args []string) (string, string) { return "POST", kvsPath(args[0]) + "/import" }),
		kvsVerb("describe STORE", "Describe a store (keys, size, dates)", 1, false,
			func(args []string) (string, string) { return "GET", kvsPath(args[0]) }),
		kvsVerb("get STORE KEY", "Print one value", 2, false,
			func(args []string) (string, string) {
				return "GET", kvsPath(args[0]) + "/keys/" + url.PathEscape(args[1])
			}),
		kvsVerb("delete STORE KEY", "Delete one key", 2, false,
			func(args []string) (string, string) {
				return "DELETE", kvsPath(args[0]) + "/keys/" + url.PathEscape(args[1])
			}),
		newKVSPutCmd(), newKVSListCmd(),
	)
	return cmd
}

func kvsPath(store string) string { return "/v1/kvs/" + url.PathEscape(store) }

// kvsVerb is a verb that sends one request (with --file as the body when withFile) and prints
// the answer: a value for get, a store's description otherwise.
func kvsVerb(use, short string, nargs int, withFile bool, route func([]string) (string, string)) *cobra.Command {
	var cf clientFlags
	var file string
	cmd := &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(nargs),
		RunE: func(cmd *cobra.Command, args []string) error {
			var body []byte
			if file != "" {
				b, err := os.ReadFile(file)
				if err != nil {
					return err
				}
				if _, err := kvs.ParseImport(b); err != nil { // a clear error before any upload
					return fmt.Errorf("%s: %w", file, err)
				}
				body = b
			} else if strings.HasPrefix(use, "import") {
				return fmt.Errorf("--file is required")
			}
			method, path := route(args)
			c := cf.client()
			var out map[string]any
			if err := c.do(cmd.Context(), method, path, bytes.NewReader(body), &out); err != nil {
				return err
			}
			if c.json {
				return printJSON(cmd.OutOrStdout(), out)
			}
			if v, ok := out["value"].(string); ok {
				fmt.Fprintln(cmd.OutOrStdout(), v)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%v: %v keys, %v bytes, updated %v\n", out["name"], out["keyCount"], out["size"], out["updated"])
			return nil
		},
	}
	cf.bind(cmd)
	if withFile {
		cmd.Flags().StringVar(&file, "file", "", `a file in CloudFront's import format: {"data":[{"key":"k","value":"v"}]}`)
	}
	return cmd
}

// newKVSPutCmd is `verge kvs put STORE KEY VALUE` (or --value-file F).
func newKVSPutCmd() *cobra.Command {
	var cf clientFlags
	var valueFile string
	cmd := &cobra.Command{
		Use: "put STORE KEY [VALUE | --value-file F]", Short: "Set one key", Args: cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			var value string
			switch {
			case (len(args) == 3) == (valueFile != ""):
				return fmt.Errorf("give exactly one of VALUE and --value-file")
			case valueFile != "":
				b, err := os.ReadFile(valueFile)
				if err != nil {
					return err
				}
				value = string(b)
			default:
				value = args[2]
			}
			if err := kvs.CheckItem(args[1], value); err != nil {
				return err
			}
			c := cf.client()
			var info kvs.Info
			if err := c.do(cmd.Context(), "PUT", kvsPath(args[0])+"/keys/"+url.PathEscape(args[1]), strings.NewReader(value), &info); err != nil {
				return err
			}
			if c.json {
				return printJSON(cmd.OutOrStdout(), info)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d keys, %d bytes\n", info.Name, info.KeyCount, info.Size)
			return nil
		},
	}
	cf.bind(cmd)
	cmd.Flags().StringVar(&valueFile, "value-file", "", "read the value from a file")
	return cmd
}

// newKVSListCmd is `verge kvs list` (the stores) or `verge kvs list STORE` (its items, in
// the import format with --json).
func newKVSListCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use: "list [STORE]", Short: "List the stores, or a store's keys and values", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := cf.client()
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			if len(args) == 1 {
				var items struct {
					Data []struct {
						Key   string `json:"key"`
						Value string `json:"value"`
					} `json:"data"`
				}
				if err := c.do(cmd.Context(), "GET", kvsPath(args[0])+"/keys", nil, &items); err != nil {
					return err
				}
				if c.json {
					return printJSON(cmd.OutOrStdout(), items)
				}
				for _, it := range items.Data {
					fmt.Fprintf(tw, "%s\t%s\n", it.Key, it.Value)
				}
				return tw.Flush()
			}
			var list []kvs.Info
			if err := c.do(cmd.Context(), "GET", "/v1/kvs", nil, &list); err != nil {
				return err
			}
			if c.json {
				return printJSON(cmd.OutOrStdout(), list)
			}
			fmt.Fprintln(tw, "STORE\tKEYS\tBYTES\tUPDATED")
			for _, s := range list {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", s.Name, s.KeyCount, s.Size, s.Updated.Format("2006-01-02T15:04:05Z"))
			}
			return tw.Flush()
		},
	}
	cf.bind(cmd)
	return cmd
}
