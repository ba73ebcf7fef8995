package testbed

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// iperfResult is the part of iperf3 -J output the test bed reads.
type iperfResult struct {
	Error string `json:"error"`
	End   struct {
		SumReceived struct {
			BitsPerSecond float64 `json:"bits_per_second"`
		} `json:"sum_received"`
	} `json:"end"`
}

// Iperf runs iperf3 for seconds from v to server (which gets an iperf3
// server) and returns the received throughput in Mbit/s.
func (v *VIF) Iperf(t testing.TB, server *VIF, seconds int) float64 {
	t.Helper()
	RequireTool(t, "iperf3")
	out := filepath.Join(v.tb.Dir, "iperf3-"+server.Name+".out")
	d, err := startDaemon(server.Name+"/iperf3", out, server.NS, nil, "iperf3", "-s", "-p", "5201")
	if err != nil {
		v.tb.fail(t, "iperf3 server: %v", err)
	}
	server.own(d)
	var mbps float64
	v.tb.WaitFor(t, fmt.Sprintf("iperf3 %s -> %s", v.Name, server.Name), time.Duration(2*seconds+20)*time.Second, func() error {
		js, err := runTimeout(time.Duration(seconds+10)*time.Second, v.NS, nil,
			"iperf3", "-c", server.Address(), "-p", "5201", "-t", fmt.Sprint(seconds), "-J", "--connect-timeout", "2000")
		var res iperfResult
		if jerr := json.Unmarshal([]byte(js), &res); jerr != nil {
			return fmt.Errorf("%v (output: %v)", err, jerr)
		}
		if res.Error != "" || res.End.SumReceived.BitsPerSecond == 0 {
			return fmt.Errorf("iperf3: %v, error %q, %v bit/s", err, res.Error, res.End.SumReceived.BitsPerSecond)
		}
		mbps = res.End.SumReceived.BitsPerSecond / 1e6
		return nil
	})
	return mbps
}
