package eventsapi

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cognate-auth/cognate/events"
)

// metrics are the events API's Prometheus metrics: the Hub's counters,
// read when scraped, and refused operations by error type.
type metrics struct {
	errors *prometheus.CounterVec
}

func newMetrics(hub *events.Hub, reg prometheus.Registerer) *metrics {
	m := &metrics{errors: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cognate_events_errors_total",
		Help: "Refused events operations by operation (connect, subscribe, unsubscribe, publish, message) and errorType.",
	}, []string{"operation", "type"})}
	if reg == nil {
		return m
	}
	stat := func(f func(events.Stats) float64) func() float64 {
		return func() float64 { return f(hub.Stats()) }
	}
	reg.MustRegister(m.errors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "cognate_events_connections", Help: "Open events WebSocket connections.",
		}, stat(func(s events.Stats) float64 { return float64(s.Connections) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "cognate_events_subscriptions", Help: "Active events subscriptions.",
		}, stat(func(s events.Stats) float64 { return float64(s.Subscriptions) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "cognate_events_published_total", Help: "Events accepted for delivery.",
		}, stat(func(s events.Stats) float64 { return float64(s.Published) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "cognate_events_deliveries_total", Help: "Data frames written to subscribers.",
		}, stat(func(s events.Stats) float64 { return float64(s.Deliveries) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "cognate_events_dropped_total", Help: "Data frames discarded with a slow consumer's queue.",
		}, stat(func(s events.Stats) float64 { return float64(s.Dropped) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "cognate_events_slow_consumers_total", Help: "Connections closed for not keeping up with their events.",
		}, stat(func(s events.Stats) float64 { return float64(s.SlowConsumers) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "cognate_events_publish_errors_total", Help: "Publishes refused whole plus events refused one by one.",
		}, stat(func(s events.Stats) float64 { return float64(s.PublishErrors) })),
	)
	return m
}

func (m *metrics) failed(operation, errorType string) {
	m.errors.WithLabelValues(operation, errorType).Inc()
}
