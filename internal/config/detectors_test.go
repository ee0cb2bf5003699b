package config

import (
	"strings"
	"testing"
)

func TestDetectorsConfigLoad(t *testing.T) {
	cfg, err := Load("", []string{
		"CHAINWATCH_DETECTORS__SINGLE_SOURCE__HHI_THRESHOLD=0.3",
		"CHAINWATCH_DETECTORS__CHOKEPOINT__GOVERNANCE__CHN=6.5",
		"CHAINWATCH_DETECTORS__HOME_ISO3=USA",
		"CHAINWATCH_DETECTORS__HOME_M49=842",
	})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	d := cfg.Detectors
	if d.SingleSource.HHIThreshold != 0.3 || d.HomeISO3 != "USA" || d.HomeM49 != 842 {
		t.Fatalf("env not applied: %+v", d.SingleSource)
	}
	if g := d.Chokepoint.Governance["chn"]; g != 6.5 {
		t.Fatalf("governance CHN = %v, want 6.5 (keys %v)", g, d.Chokepoint.Governance)
	}
	_, err = Load("", []string{
		"CHAINWATCH_DETECTORS__SINGLE_SOURCE__HHI_THRESHOLD=1.5",
		"CHAINWATCH_DETECTORS__ENABLED=single_source,bogus",
		"CHAINWATCH_DETECTORS__EXPOSURE__WEIGHTS__NOPE=1",
	})
	if err == nil {
		t.Fatal("want validation errors")
	}
	for _, want := range []string{"detectors.single_source.hhi_threshold", "detectors.enabled[1]", "detectors.exposure.weights.nope: unknown key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q:\n%v", want, err)
		}
	}
}
