package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/vergecdn/verge/jsruntime"
)

// newFnTestCmd is `verge fn test --file handler.js --event event.json [--runtime R] [--stage S]`:
// it runs one function on one event locally and prints
// {"output": ..., "logs": [...], "durationMs": n, "error": null|"..."}. The exit status is 0
// when the function ran and its result is valid, 1 otherwise.
func newFnTestCmd() *cobra.Command {
	var file, event, runtime, stage, store string
	cmd := &cobra.Command{
		Use:   "test --file handler.js --event event.json",
		Short: "Run a function on one event locally, without a server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ev, err := os.ReadFile(event)
			if err != nil {
				return err
			}
			rep, err := jsruntime.RunTest(cmd.Context(), jsruntime.TestOptions{File: file, Event: ev, Runtime: runtime, Stage: stage, KVS: store})
			if err != nil {
				msg := err.Error()
				rep = jsruntime.TestReport{Output: json.RawMessage("null"), Logs: []string{}, Error: &msg}
			}
			for _, n := range rep.Notes {
				fmt.Fprintf(cmd.ErrOrStderr(), "verge: %s: %s\n", event, n)
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetEscapeHTML(false)
			if err := enc.Encode(rep); err != nil {
				return err
			}
			if rep.Error != nil {
				cmd.SilenceUsage, cmd.SilenceErrors = true, true
				return fmt.Errorf("%s", *rep.Error)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "the function's source file (sibling .js/.json files are bundled)")
	cmd.Flags().StringVar(&event, "event", "", "the event JSON file (Lambda@Edge or CloudFront Functions shape)")
	cmd.Flags().StringVar(&runtime, "runtime", "", "lambda-edge, cloudfront-js-1.0 or cloudfront-js-2.0 (cloudfront-functions is an alias of 2.0); default: the event's dialect")
	cmd.Flags().StringVar(&stage, "stage", "", "override the event type: viewer-request, origin-request, origin-response, viewer-response")
	cmd.Flags().StringVar(&store, "kvs", "", `a KeyValueStore for cf.kvs(), in CloudFront's import format ({"data":[{"key":..,"value":..}]})`)
	_ = cmd.MarkFlagRequired("file")
	_ = cmd.MarkFlagRequired("event")
	return cmd
}
