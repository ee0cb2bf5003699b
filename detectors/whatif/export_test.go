package whatif

// Exported for the external tests (package whatif_test, which import collectors: collectors →
// internal/config → whatif would be a cycle inside package whatif).
var (
	FourTier  = fourTier
	Gallium   = gallium
	SendBatch = sendBatch
)
