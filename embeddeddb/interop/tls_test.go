package interop

import (
	"context"
	"strings"
	"testing"
	"time"
)

// sslOpts are the ovn-nbctl/ovsdb-client options for a key, a certificate
// and the CA.
func sslOpts(key, cert, ca string) []string {
	return []string{"--private-key=" + key, "--certificate=" + cert, "--ca-cert=" + ca}
}

// TestSSL reaches the target over pssl remotes with certificates from its
// CA, and is turned away with a certificate from another CA.
func TestSSL(t *testing.T) {
	t.Parallel()
	s := StartTarget(t, Options{TLS: true})
	p := s.PKI
	good := sslOpts(p.ClientKey, p.ClientCert, p.CACert)
	nb := &Ctl{Tool: "ovn-nbctl", DB: "ssl:" + s.NBSSL, SSL: good}
	sb := &Ctl{Tool: "ovn-sbctl", DB: "ssl:" + s.SBSSL, SSL: good}
	nb.Must(t, "ls-add", "sw0")
	sb.Must(t, "chassis-add", "ch0", "geneve", "127.0.0.1")
	if got := NBCtl(s).Must(t, "--bare", "--columns=name", "list", "Logical_Switch"); got != "sw0\n" {
		t.Errorf("over unix after an ssl write: %q", got)
	}
	args := append(good, "list-dbs", "ssl:"+s.SBSSL)
	if r := Run(context.Background(), nil, "ovsdb-client", append([]string{"--timeout=5"}, args...)...); r.Code != 0 || !strings.Contains(r.Stdout, "OVN_Southbound") {
		t.Errorf("ovsdb-client list-dbs over ssl: exit %d: %s%s", r.Code, r.Stdout, r.Stderr)
	}
	bad := sslOpts(p.StrangerKey, p.StrangerCert, p.CACert)
	r := Run(context.Background(), nil, "ovsdb-client", append([]string{"--timeout=3"}, append(bad, "list-dbs", "ssl:"+s.NBSSL)...)...)
	if r.Code == 0 {
		t.Errorf("ovsdb-client with a certificate from another CA was served: %s", r.Stdout)
	}
	t.Logf("with a certificate from another CA: exit %d: %s", r.Code, strings.TrimSpace(r.Stderr))
}

// TestSSLConnectionRow opens a pssl listener through NB_Global.connections
// (set-connection), using the server's configured certificates.
func TestSSLConnectionRow(t *testing.T) {
	t.Parallel()
	s := StartTarget(t, Options{TLS: true})
	addr := freeTCPAddr(t)
	NBCtl(s).Must(t, "set-connection", pssl(addr))
	p := s.PKI
	list := func() error {
		args := append(sslOpts(p.ClientKey, p.ClientCert, p.CACert), "list-dbs", "ssl:"+addr)
		r := Run(context.Background(), nil, "ovsdb-client", append([]string{"--timeout=2"}, args...)...)
		if r.Code != 0 {
			return &runError{r}
		}
		return nil
	}
	if err := waitUntil(5*time.Second, func() bool { return list() == nil }); err != nil {
		t.Fatalf("set-connection %s: no ssl server: %v", pssl(addr), list())
	}
}

type runError struct{ r Result }

func (e *runError) Error() string {
	return strings.Join(e.r.Args, " ") + ": " + strings.TrimSpace(e.r.Stderr)
}

// TestSetSSL configures SSL the way ovn-ctl deployments do: keys in the
// NB SSL table by ovn-nbctl set-ssl, and a pssl Connection row.
func TestSetSSL(t *testing.T) {
	t.Parallel()
	s := StartTarget(t, Options{})
	p, err := NewPKI(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	nb := NBCtl(s)
	nb.Must(t, "set-ssl", p.ServerKey, p.ServerCert, p.CACert)
	addr := freeTCPAddr(t)
	nb.Must(t, "set-connection", pssl(addr))
	list := func() error {
		args := append(sslOpts(p.ClientKey, p.ClientCert, p.CACert), "list-dbs", "ssl:"+addr)
		if r := Run(context.Background(), nil, "ovsdb-client", append([]string{"--timeout=2"}, args...)...); r.Code != 0 {
			return &runError{r}
		}
		return nil
	}
	if err := waitUntil(5*time.Second, func() bool { return list() == nil }); err != nil {
		t.Fatalf("set-ssl and set-connection %s: no ssl server: %v", pssl(addr), list())
	}
}
