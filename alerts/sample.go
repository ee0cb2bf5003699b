package alerts

import (
	"time"

	"github.com/chainwatch/chainwatch/detectors"
)

// SampleFinding is a realistic single-source finding (the same as testdata/alerts/finding.json):
// an MCU for ENT-DEMO with 12 days of stock against a 60-day recovery, two alternates (one
// domestic), and a consumption of 100 units/day. For demos and tests.
func SampleFinding(now time.Time) detectors.Finding {
	tts, ttr, prev := 12.0, 60.0, 79.5
	return detectors.Finding{
		RunID: "run-demo", ComputedAt: now, Detector: "single_source", SubjectType: detectors.SubjectEnterpriseComponent,
		Subject: "ENT-DEMO|MCU-STM32F4", EnterpriseID: "ENT-DEMO", ComponentID: "MCU-STM32F4", Category: "semiconductors",
		Industry: "industrial_automation", Region: "Jiangsu",
		Score: 86.4, PrevScore: &prev,
		Flags: []string{detectors.FlagSingleSource, detectors.FlagForeignControl, detectors.FlagTTSBelowTTR},
		Terms: []detectors.Term{
			{Name: "supplier_share", Value: 1, Weight: 0.4, Contribution: 40, Share: 0.463, Detail: "100% from SUP-ST (CH)"},
			{Name: "tts_ttr_gap", Value: 48, Weight: 0.3, Contribution: 26.4, Share: 0.306},
			{Name: "foreign_control", Value: 1, Weight: 0.2, Contribution: 20, Share: 0.231},
			{Name: ConsumptionTerm, Value: 100, Weight: 0, Contribution: 0, Share: 0},
		},
		TTSDays: &tts, TTRDays: &ttr,
		Alternates: []detectors.Alternate{
			{ComponentID: "MCU-RA6M5", SupplierID: "SUP-RENESAS", Country: "JP", Domestic: false, QualificationDays: 30, HHIAfter: 0.62, Origin: "substitution"},
			{ComponentID: "MCU-GD32F470", SupplierID: "SUP-GIGADEVICE", Country: "CN", Domestic: true, QualificationDays: 45, HHIAfter: 0.58, Origin: "substitution", Notes: "pin-compatible"},
		},
		Products:   []string{"PLC-X200", "HMI-7"},
		WindowFrom: now.AddDate(0, -3, 0), WindowTo: now,
	}
}

// SampleAlert builds the B计划 warning of SampleFinding with the default rules.
func SampleAlert(now time.Time, enterpriseName string) *Alert {
	a, _ := BuildAlert(DefaultConfig(), SampleFinding(now), now)
	a.EnterpriseName = enterpriseName
	return a
}
