package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var seriesRE = regexp.MustCompile(`verge_[a-z_]+`)

// TestDashboardsNameRealSeries checks the Grafana dashboard and the alert rules in configs/
// against the series the code defines: a renamed metric must not leave a panel or an alert
// silently empty.
func TestDashboardsNameRealSeries(t *testing.T) {
	root := "../.."
	defined := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		for _, m := range regexp.MustCompile(`"(verge_[a-z_]+)"`).FindAllSubmatch(src, -1) {
			defined[string(m[1])] = true
		}
		return err
	})
	if err != nil || len(defined) < 10 {
		t.Fatalf("series found in the code: %d, err %v", len(defined), err)
	}

	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	readJSONFile(t, filepath.Join(root, "configs", "grafana", "verge-dashboard.json"), &dash)
	exprs := map[string]string{}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs["panel "+p.Title] += tg.Expr + "\n"
		}
	}
	raw, err := os.ReadFile(filepath.Join(root, "configs", "prometheus", "verge-alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatal(err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs["alert "+r.Alert] += r.Expr
		}
	}
	if len(exprs) < 20 {
		t.Fatalf("only %d panels and alerts with queries", len(exprs))
	}
	for where, e := range exprs {
		for _, s := range seriesRE.FindAllString(e, -1) {
			base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(s, "_bucket"), "_sum"), "_count")
			if !defined[s] && !defined[base] {
				t.Errorf("%s queries %s, which no code defines", where, s)
			}
		}
	}
}
