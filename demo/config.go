package demo

import (
	_ "embed"
	"strings"
)

//go:embed default.yaml
var defaultYAML string

// Config returns the default configuration with the demo origin at originURL.
func Config(originURL string) []byte {
	return []byte(strings.ReplaceAll(defaultYAML, "ORIGIN_URL", originURL))
}
