package pinctrl

import (
	"context"
	"log/slog"
	"time"

	"github.com/ovnd/ovnd/controller/openflow"
)

// Switch is the connection Serve answers on: openflow.Conn.
type Switch interface {
	Async() <-chan openflow.Message
	Send(ctx context.Context, m openflow.Message) (uint32, error)
}

// Env is the outside world packet-ins read and write: SB.
type Env interface {
	Neighbors
	DNS
}

// Serve answers the packet-ins arriving on sw until sw's asynchronous
// channel closes or ctx ends, looking DNS records up in env and
// recording there the neighbors put_arp and put_nd learn (env may be
// nil). Other asynchronous messages are ignored. It blocks: run it on a
// goroutine of its own.
func Serve(ctx context.Context, sw Switch, log *slog.Logger, env Env) {
	h := Handler{}
	if env != nil {
		h.DNS = env
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	warn, info := newLimiter(5, 5*time.Second), newLimiter(20, 10*time.Second)
	for {
		var m openflow.Message
		var ok bool
		select {
		case m, ok = <-sw.Async():
		case <-ctx.Done():
			return
		}
		if !ok {
			return
		}
		p, isPin := m.(*openflow.PacketIn2)
		if !isPin {
			continue
		}
		r := h.Handle(p)
		now := time.Now()
		if r.Err != nil && warn.allow(now) {
			log.Warn("packet-in not answered", "opcode", r.Op, "table", p.TableID, "err", r.Err)
		}
		if r.Info != "" && info.allow(now) {
			log.Info("packet-in answered", "opcode", r.Op, "answer", r.Info)
		}
		if r.Learned != nil && env != nil {
			lctx, cancel := context.WithTimeout(ctx, learnTimeout)
			if err := env.Learn(lctx, *r.Learned); err != nil && warn.allow(now) {
				log.Warn("neighbor not recorded", "err", err)
			}
			cancel()
		}
		for _, out := range r.Msgs {
			if _, err := sw.Send(ctx, out); err != nil {
				if warn.allow(now) {
					log.Warn("packet-in answer not sent", "opcode", r.Op, "err", err)
				}
				break
			}
		}
	}
}

// learnTimeout bounds one SB write of a learned neighbor.
const learnTimeout = 5 * time.Second

// limiter lets n events through per period (a fixed window), like
// ovn-controller's VLOG_RATE_LIMIT.
type limiter struct {
	n      int
	period time.Duration
	start  time.Time
	used   int
}

func newLimiter(n int, period time.Duration) *limiter { return &limiter{n: n, period: period} }

func (l *limiter) allow(now time.Time) bool {
	if now.Sub(l.start) >= l.period {
		l.start, l.used = now, 0
	}
	if l.used >= l.n {
		return false
	}
	l.used++
	return true
}
