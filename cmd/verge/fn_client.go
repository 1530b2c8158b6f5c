package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// adminClient talks to a node's admin API for the `verge fn` verbs.
type adminClient struct {
	base, token string
	json        bool
	http        *http.Client
}

// clientFlags binds the verbs' common flags, --admin, --token and --json, whose defaults
// come from VERGE_ADMIN and VERGE_TOKEN.
type clientFlags struct {
	admin, token string
	json         bool
}

func (f *clientFlags) bind(cmd *cobra.Command) {
	def := os.Getenv("VERGE_ADMIN")
	if def == "" {
		def = "http://127.0.0.1:8081"
	}
	cmd.Flags().StringVar(&f.admin, "admin", def, "the node's admin API URL (env VERGE_ADMIN)")
	cmd.Flags().StringVar(&f.token, "token", "", "admin API bearer token (env VERGE_TOKEN)")
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON instead of text")
}

func (f *clientFlags) client() *adminClient {
	tok := f.token
	if tok == "" {
		tok = os.Getenv("VERGE_TOKEN")
	}
	base := strings.TrimRight(f.admin, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &adminClient{base: base, token: tok, json: f.json, http: &http.Client{Timeout: 5 * time.Minute}}
}

// do sends a request and decodes a 2xx JSON answer into out (if not nil). A non-2xx answer
// becomes an error carrying the API's one-line reason.
func (c *adminClient) do(ctx context.Context, method, path string, body io.Reader, out any) error {
	resp, err := c.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("bad answer from %s: %w", c.base, err)
		}
	}
	return nil
}

// send sends a request and returns a 2xx response, whose body the caller closes.
func (c *adminClient) send(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("cannot reach the admin API at %s: %v", c.base, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	var e struct {
		Error string `json:"error"`
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(data, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(data))
	}
	return nil, &apiError{Status: resp.StatusCode, Reason: oneLine(e.Error)}
}

// apiError is a non-2xx answer of the admin API.
type apiError struct {
	Status int
	Reason string // the API's one-line reason
}

func (e *apiError) Error() string { return fmt.Sprintf("%s (%d)", e.Reason, e.Status) }

// printJSON prints v indented.
func printJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func oneLine(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\n", " ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}
