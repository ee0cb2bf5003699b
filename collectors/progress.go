package collectors

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// startProgress reports an import's progress until the returned stop is called: a progress bar
// (bytes, rate, ETA) when opts.Progress is a terminal, else an slog line every ProgressInterval.
func startProgress(ctx context.Context, opts *ImportOptions, kind, path string, total int64, pc *progressCounters) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
	start := time.Now()
	if opts.Progress != nil && term.IsTerminal(int(opts.Progress.Fd())) {
		max := total
		if max <= 0 {
			max = -1
		}
		bar := progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(opts.Progress),
			progressbar.OptionSetDescription("import "+kind),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionFullWidth(),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(opts.Progress) }),
		)
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					bar.Set64(pc.bytes.Load())
					bar.Describe(fmt.Sprintf("import %s: %d records", kind, pc.records.Load()))
					if max > 0 {
						bar.Finish()
					} else {
						bar.Exit()
						fmt.Fprintln(opts.Progress)
					}
					return
				case <-ctx.Done():
					<-done
					bar.Exit()
					return
				case <-t.C:
					bar.Set64(pc.bytes.Load())
					bar.Describe(fmt.Sprintf("import %s: %d records", kind, pc.records.Load()))
				}
			}
		}()
		return stop
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(opts.ProgressInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				el := time.Since(start).Seconds()
				b, n := pc.bytes.Load(), pc.records.Load()
				args := []any{"kind", kind, "path", redactedURL(path), "records", n, "bytes", b,
					"records_per_s", int64(float64(n) / el), "mb_per_s", fmt.Sprintf("%.1f", float64(b)/el/1e6)}
				if total > 0 && b > 0 {
					frac := float64(b) / float64(total)
					eta := time.Duration(el/frac*(1-frac)) * time.Second
					args = append(args, "percent", fmt.Sprintf("%.1f", 100*frac), "eta", eta.Round(time.Second))
				}
				opts.Logger.Info("import progress", args...)
			}
		}
	}()
	return stop
}
