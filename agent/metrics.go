package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tsnctl/tsnctl/param"
	"github.com/tsnctl/tsnctl/ptp/syncstate"
	"github.com/tsnctl/tsnctl/qdisc"
)

// Metrics presents an agent's Status to Prometheus: every value is read from a Snapshot at scrape
// time (nothing is kept twice), except the repair durations, which the loop observes.
type Metrics struct {
	Registry      *prometheus.Registry
	repairSeconds prometheus.Histogram
	admissions    *prometheus.CounterVec
	agent         atomic.Pointer[Agent]
	waiting       atomic.Bool
	version       string
}

// NewMetrics makes the registry: the agent's collector, the repair histogram, Go and process
// metrics. Attach it with Options.Metrics and SetAgent.
func NewMetrics(version string) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(), version: version,
		repairSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tsnctl_repair_duration_seconds",
			Help:    "Time from a drift repair's start (the reconcile's) to the kernel's state verified equal to the file.",
			Buckets: []float64{.001, .002, .005, .01, .02, .05, .1, .2, .5, 1, 2, 5}}),
		admissions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tsnctl_admission_requests_total",
			Help: "Streams applications asked to add on the admission socket, by outcome: admitted, evicted (by a reload), or the reason of a refusal (deadline, pinned, utilisation, admission, busy, …)."}, []string{"outcome"})}
	m.Registry.MustRegister(m.repairSeconds, m.admissions, m, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// SetAgent names the agent whose status the collector reads (it may come after Serve).
func (m *Metrics) SetAgent(a *Agent) { m.agent.Store(a) }

// SetWaiting makes /healthz answer ok while no agent runs yet: tsnctl agent --kubernetes waits for
// its node's TSNConfig, which is no reason to restart it.
func (m *Metrics) SetWaiting() { m.waiting.Store(true) }

var (
	descIfaceState  = prometheus.NewDesc("tsnctl_interface_state", "1 for the state a managed interface is in (configured, degraded, waiting), 0 for the others.", []string{"interface", "state"}, nil)
	descDrift       = prometheus.NewDesc("tsnctl_drift_repaired_total", "Drift found and repaired, by interface and by what the repair did (the plan's action).", []string{"interface", "kind"}, nil)
	descRepairs     = prometheus.NewDesc("tsnctl_repairs_total", "Drift repairs: reconciles that changed the kernel's state of an interface verified before (its first configuration is not one), by interface.", []string{"interface"}, nil)
	descFailures    = prometheus.NewDesc("tsnctl_repair_failures_total", "Reconciles that failed and were rolled back, by interface.", []string{"interface"}, nil)
	descVerified    = prometheus.NewDesc("tsnctl_last_verification_timestamp_seconds", "When the interface's kernel state was last verified equal to the file (Unix time).", []string{"interface"}, nil)
	descReady       = prometheus.NewDesc("tsnctl_ready", "1 when every managed interface is configured (and time sync LOCKED when the file has a ptp: section).", nil, nil)
	descConfig      = prometheus.NewDesc("tsnctl_config_info", "The configuration in force: its file and hash.", []string{"file", "hash"}, nil)
	descReloads     = prometheus.NewDesc("tsnctl_reloads_total", "Reload requests (SIGHUP).", nil, nil)
	descReloadFail  = prometheus.NewDesc("tsnctl_reload_failures_total", "Reloads refused (invalid file) or rolled back (the kernel refused it).", nil, nil)
	descBuild       = prometheus.NewDesc("tsnctl_build_info", "tsnctl's version.", []string{"version"}, nil)
	descSyncState   = prometheus.NewDesc("tsnctl_ptp_sync_state", "1 for the time sync state the node is in (FREERUN, LOCKING, LOCKED, HOLDOVER), 0 for the others.", []string{"state"}, nil)
	descOffset      = prometheus.NewDesc("tsnctl_ptp_offset_seconds", "ptp4l's offset from the master.", nil, nil)
	descPathDelay   = prometheus.NewDesc("tsnctl_ptp_path_delay_seconds", "ptp4l's (peer) path delay.", nil, nil)
	descGrandmaster = prometheus.NewDesc("tsnctl_ptp_grandmaster_info", "The grandmaster the node follows.", []string{"identity", "present"}, nil)
	qdiscLabels     = []string{"interface", "kind", "handle", "parent"}
	descQPackets    = prometheus.NewDesc("tsnctl_qdisc_packets_total", "Packets sent by a qdisc of a managed interface (the kernel's counter, tc -s qdisc show).", qdiscLabels, nil)
	descQBytes      = prometheus.NewDesc("tsnctl_qdisc_bytes_total", "Bytes sent by a qdisc of a managed interface.", qdiscLabels, nil)
	descQDrops      = prometheus.NewDesc("tsnctl_qdisc_drops_total", "Packets a qdisc dropped (for ETF: packets whose txtime had passed or was invalid).", qdiscLabels, nil)
	descQOverlimits = prometheus.NewDesc("tsnctl_qdisc_overlimits_total", "Times a qdisc held a packet back (a closed gate, a txtime not reached).", qdiscLabels, nil)
	descQRequeues   = prometheus.NewDesc("tsnctl_qdisc_requeues_total", "Packets a qdisc requeued.", qdiscLabels, nil)
	descQBacklog    = prometheus.NewDesc("tsnctl_qdisc_backlog_bytes", "Bytes queued in a qdisc now.", qdiscLabels, nil)
	descQQlen       = prometheus.NewDesc("tsnctl_qdisc_queue_length", "Packets queued in a qdisc now.", qdiscLabels, nil)
	descPtpRestarts = prometheus.NewDesc("tsnctl_ptp_process_restarts_total", "ptp4l and phc2sys restarts by the supervisor.", []string{"process"}, nil)
	descStreams     = prometheus.NewDesc("tsnctl_streams", "Streams the schedules in force carry, by interface and origin (file, or admitted through the admission socket).", []string{"interface", "origin"}, nil)
	descLinkShare   = prometheus.NewDesc("tsnctl_stream_link_utilisation_ratio", "The share of the link the streams' frames take, as planned (0-1), by interface.", []string{"interface"}, nil)
)

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descIfaceState, descDrift, descRepairs, descFailures, descVerified, descReady, descConfig,
		descReloads, descReloadFail, descBuild, descSyncState, descOffset, descPathDelay, descGrandmaster, descPtpRestarts,
		descQPackets, descQBytes, descQDrops, descQOverlimits, descQRequeues, descQBacklog, descQQlen, descStreams, descLinkShare} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descBuild, prometheus.GaugeValue, 1, m.version)
	a := m.agent.Load()
	if a == nil {
		return
	}
	st := a.Snapshot()
	for _, i := range st.Interfaces {
		for _, s := range []State{Configured, Degraded, Waiting} {
			ch <- prometheus.MustNewConstMetric(descIfaceState, prometheus.GaugeValue, b2f(i.State == s), i.Name, string(s))
		}
		for kind, n := range i.Drift {
			ch <- prometheus.MustNewConstMetric(descDrift, prometheus.CounterValue, float64(n), i.Name, kind)
		}
		ch <- prometheus.MustNewConstMetric(descRepairs, prometheus.CounterValue, float64(i.Repairs), i.Name)
		ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(i.Failures), i.Name)
		if !i.LastVerified.IsZero() {
			ch <- prometheus.MustNewConstMetric(descVerified, prometheus.GaugeValue, float64(i.LastVerified.UnixNano())/1e9, i.Name)
		}
	}
	qs, _ := a.Qdiscs() // counters of the qdiscs that could be read
	for _, q := range qs {
		l := []string{q.Iface, q.Kind, qdisc.FormatHandle(q.Handle), qdisc.FormatHandle(q.Parent)}
		for _, v := range []struct {
			d *prometheus.Desc
			t prometheus.ValueType
			v float64
		}{{descQPackets, prometheus.CounterValue, float64(q.Stats.Packets)}, {descQBytes, prometheus.CounterValue, float64(q.Stats.Bytes)},
			{descQDrops, prometheus.CounterValue, float64(q.Stats.Drops)}, {descQOverlimits, prometheus.CounterValue, float64(q.Stats.Overlimits)},
			{descQRequeues, prometheus.CounterValue, float64(q.Stats.Requeues)}, {descQBacklog, prometheus.GaugeValue, float64(q.Stats.Backlog)},
			{descQQlen, prometheus.GaugeValue, float64(q.Stats.Qlen)}} {
			ch <- prometheus.MustNewConstMetric(v.d, v.t, v.v, l...)
		}
	}
	admitted := map[string]bool{}
	for _, x := range st.Admitted {
		admitted[x.Stream.Name] = true
	}
	type count struct{ file, admitted int }
	counts, share := map[string]*count{}, map[string]float64{}
	for _, r := range st.Streams {
		c := counts[r.Interface]
		if c == nil {
			c = &count{}
			counts[r.Interface] = c
		}
		if admitted[r.Stream] {
			c.admitted++
		} else {
			c.file++
		}
		share[r.Interface] += r.Utilisation
	}
	for i, c := range counts {
		ch <- prometheus.MustNewConstMetric(descStreams, prometheus.GaugeValue, float64(c.file), i, "file")
		ch <- prometheus.MustNewConstMetric(descStreams, prometheus.GaugeValue, float64(c.admitted), i, "admitted")
		ch <- prometheus.MustNewConstMetric(descLinkShare, prometheus.GaugeValue, share[i], i)
	}
	ch <- prometheus.MustNewConstMetric(descReady, prometheus.GaugeValue, b2f(st.Ready))
	ch <- prometheus.MustNewConstMetric(descConfig, prometheus.GaugeValue, 1, st.File, st.ConfigHash)
	ch <- prometheus.MustNewConstMetric(descReloads, prometheus.CounterValue, float64(st.Reloads))
	ch <- prometheus.MustNewConstMetric(descReloadFail, prometheus.CounterValue, float64(st.ReloadFailures))
	if s := st.Sync; s != nil {
		for _, state := range []syncstate.State{syncstate.FreeRun, syncstate.Locking, syncstate.Locked, syncstate.Holdover} {
			ch <- prometheus.MustNewConstMetric(descSyncState, prometheus.GaugeValue, b2f(s.State == state), string(state))
		}
		ch <- prometheus.MustNewConstMetric(descOffset, prometheus.GaugeValue, float64(s.OffsetNs)/1e9)
		ch <- prometheus.MustNewConstMetric(descPathDelay, prometheus.GaugeValue, float64(s.PathDelayNs)/1e9)
		ch <- prometheus.MustNewConstMetric(descGrandmaster, prometheus.GaugeValue, 1, s.GMIdentity, fmt.Sprint(s.GMPresent))
		for p, n := range s.Restarts {
			ch <- prometheus.MustNewConstMetric(descPtpRestarts, prometheus.CounterValue, float64(n), p)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Handler serves /metrics, /healthz (the reconcile loop ran within the last few seconds) and
// /readyz (200 when ready, 503 with the reason).
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		a := m.agent.Load()
		if a == nil && m.waiting.Load() {
			fmt.Fprintln(w, "ok (waiting for a configuration)")
			return
		}
		if a == nil || !a.Healthy(time.Now()) {
			http.Error(w, "the reconcile loop is not running", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		a := m.agent.Load()
		if a == nil {
			http.Error(w, "starting: no configuration yet", http.StatusServiceUnavailable)
			return
		}
		if st := a.Snapshot(); !st.Ready {
			http.Error(w, "not ready: "+st.NotReady, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// Listen opens the metrics and health listener (127.0.0.1:9559 by default in tsnctl agent): a
// port that is taken is an error at start, not later.
func Listen(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, param.Errorf("metrics-addr", addr, "%w", err)
	}
	return l, nil
}

// Serve serves Handler on l until ctx ends.
func (m *Metrics) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: m.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
