package channels_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainwatch/chainwatch/alerts/channels"
	"github.com/chainwatch/chainwatch/internal/config"
)

func TestExampleConfigBuildsEveryIntegration(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	cfg, err := config.Load("testdata/alerts/config.yaml", []string{"CHAINWATCH_ALERTS__GROUP_WAIT=45s"})
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Alerts
	if a.Email.SMTP.Password.Reveal() != "smtp-pass-from-file" || a.Webhooks[0].Secret.Reveal() != "hmac-from-file" {
		t.Errorf("secrets from files not read")
	}
	if a.GroupWait.String() != "45s" {
		t.Errorf("env override: %s", a.GroupWait)
	}
	if r := a.Route("ENT-0002"); r.Lang != "en" || r.MinSeverity != "critical" || r.Name != "Acme Robotics GmbH" {
		t.Errorf("route ENT-0002 %+v", r)
	}
	if r := a.Route("ENT-UNKNOWN"); r.Lang != "zh-CN" || r.Email[0] != "scm-ops@chainwatch.example" {
		t.Errorf("default route %+v", r)
	}
	reg, err := channels.Build(a, channels.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(reg.Names(), ","); got != "email,erp-hook,am,ops-wecom,ent1-dingtalk,lark" {
		t.Errorf("integrations %s", got)
	}
	if s := a.Email.SMTP.Password.String(); strings.Contains(s, "smtp-pass") {
		t.Error("password prints")
	}
}

func TestBadConfigNamesEveryKey(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	_, err := config.Load("testdata/alerts/bad.yaml", []string{})
	if err == nil {
		t.Fatal("bad config loaded")
	}
	for _, want := range []string{
		"alerts.state_dir: required",
		"alerts.repeat_interval: must be >= alerts.group_interval",
		"alerts.rules.thresholds.critical:",
		"alerts.rules.thresholds: info 70, warning 60",
		"alerts.rules.flag_floors.chokepoint_list:",
		"alerts.rules.overrides[0]: needs enterprise, category or both",
		"alerts.actions.split_share:",
		"alerts.default.lang:",
		`alerts.default.channels[0]: "pager" is not a configured integration`,
		"alerts.enterprises.ENT-9.email[0]:",
		"alerts.enterprises.ENT-9.min_severity:",
		"alerts.email.from:",
		"alerts.email.smtp.host: required",
		"alerts.email.smtp.port: must be 1..65535",
		"alerts.email.smtp.mode:",
		"alerts.email.smtp.auth:",
		"alerts.email.smtp.username: required",
		"alerts.webhooks[0].name: \"email\" is reserved",
		"alerts.webhooks[0].type:",
		"alerts.webhooks[0].url: is not an http(s) URL",
		"alerts.webhooks[1].secret: required for type json",
		"alerts.webhooks[2].name: \"hook\" is used twice",
		"alerts.webhooks[2].url: required",
		"alerts.webhooks[2].format:",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q", want)
		}
	}
	if t.Failed() {
		t.Log(err)
	}
}

func TestDefaultsValidateAndUnknownChannelFailsBuild(t *testing.T) {
	cfg := config.Default()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	reg, err := channels.Build(cfg.Alerts, channels.Options{})
	if err != nil || len(reg.Names()) != 0 {
		t.Fatalf("default registry %v %v", reg.Names(), err)
	}
}
