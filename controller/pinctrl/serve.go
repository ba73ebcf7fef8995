package pinctrl

import (
	"context"
	"log/slog"
	"sync"
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
	MACs
}

// releaseEvery is how often held packets look for their neighbor's MAC.
const releaseEvery = 100 * time.Millisecond

// learnQueue bounds the learned neighbors and MAC locations waiting to
// be written; beyond it they are dropped (the next packet learns them
// again).
const learnQueue = 256

// learnTimeout bounds one SB write of something learned.
const learnTimeout = 5 * time.Second

// Serve answers the packet-ins arriving on sw until sw's asynchronous
// channel closes or ctx ends, looking DNS records up in env and
// recording there what put_arp, put_nd and put_fdb learn (env may be
// nil). Records are written by a goroutine of Serve's, so that a slow
// SB does not hold up answers; Serve stops it before it returns. Other
// asynchronous messages are ignored. Serve blocks: run it on a
// goroutine of its own.
func Serve(ctx context.Context, sw Switch, log *slog.Logger, env Env) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &server{sw: sw, log: log, warn: newLimiter(5, 5*time.Second), info: newLimiter(20, 10*time.Second),
		acl: newLimiter(100, time.Second)}
	if env != nil {
		s.h.DNS = env
		s.learn = make(chan Result, learnQueue)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.routineLearn(ctx, env)
		}()
		defer wg.Wait()
		defer close(s.learn)
	}
	ticker := time.NewTicker(releaseEvery)
	defer ticker.Stop()
	for {
		var tick <-chan time.Time
		if env != nil && !s.held.empty() {
			tick = ticker.C
		}
		select {
		case m, ok := <-sw.Async():
			if !ok {
				return
			}
			if p, isPin := m.(*openflow.PacketIn2); isPin {
				s.answer(ctx, p)
			}
		case now := <-tick:
			s.send(ctx, s.held.release(env, now), "held packet")
		case <-ctx.Done():
			return
		}
	}
}

// server is the state of one Serve.
type server struct {
	sw    Switch
	log   *slog.Logger
	h     Handler
	learn chan Result // to routineLearn; nil without an Env
	held  holder

	mu              sync.Mutex // guards the limiters, used by both goroutines
	warn, info, acl *limiter
}

func (s *server) allow(l *limiter) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return l.allow(time.Now())
}

// answer handles one packet-in and sends what it calls for.
func (s *server) answer(ctx context.Context, p *openflow.PacketIn2) {
	r := s.h.Handle(p)
	if r.Err != nil && s.allow(s.warn) {
		s.log.Warn("packet-in not answered", "opcode", r.Op, "table", p.TableID, "err", r.Err)
	}
	if r.Info != "" && s.allow(s.info) {
		s.log.Info("packet-in answered", "opcode", r.Op, "answer", r.Info)
	}
	if r.Log != nil && s.allow(s.acl) {
		s.log.Log(ctx, r.Log.Level, r.Log.String(), "acl_log", true)
	}
	if (r.Learned != nil || r.LearnedFDB != nil) && s.learn != nil {
		select {
		case s.learn <- r:
		default:
			if s.allow(s.warn) {
				s.log.Warn("too much learned at once, dropped", "what", r.Info)
			}
		}
	}
	if r.Hold != nil && s.learn != nil && !s.held.push(*r.Hold, time.Now()) && s.allow(s.warn) {
		s.log.Warn("too many next hops unresolved, packet dropped", "ip", r.Hold.IP)
	}
	s.send(ctx, r.Msgs, "packet-in answer")
}

// send sends msgs, stopping at the first failure.
func (s *server) send(ctx context.Context, msgs []openflow.Message, what string) {
	for _, out := range msgs {
		if _, err := s.sw.Send(ctx, out); err != nil {
			if s.allow(s.warn) {
				s.log.Warn(what+" not sent", "err", err)
			}
			return
		}
	}
}

// routineLearn writes what packet-ins learned until the queue closes.
func (s *server) routineLearn(ctx context.Context, env Neighbors) {
	for r := range s.learn {
		lctx, cancel := context.WithTimeout(ctx, learnTimeout)
		var err error
		if r.Learned != nil {
			err = env.Learn(lctx, *r.Learned)
		} else {
			err = env.LearnFDB(lctx, *r.LearnedFDB)
		}
		cancel()
		if err != nil && s.allow(s.warn) {
			s.log.Warn("not recorded in the southbound database", "err", err)
		}
	}
}

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
