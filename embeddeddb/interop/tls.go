package interop

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// PKI is a throwaway CA with a server and a client certificate, as PEM
// files in one dir, in the roles ovs-pki would give them.
type PKI struct {
	CACert                string
	ServerKey, ServerCert string
	ClientKey, ClientCert string
	// StrangerKey and StrangerCert are signed by another CA.
	StrangerKey, StrangerCert string

	dir   string
	ca    *x509.Certificate
	caKey *ecdsa.PrivateKey
}

// NewPKI writes a PKI into dir.
func NewPKI(dir string) (*PKI, error) {
	p := &PKI{
		CACert:    filepath.Join(dir, "ca-cert.pem"),
		ServerKey: filepath.Join(dir, "server-privkey.pem"), ServerCert: filepath.Join(dir, "server-cert.pem"),
		ClientKey: filepath.Join(dir, "client-privkey.pem"), ClientCert: filepath.Join(dir, "client-cert.pem"),
		StrangerKey: filepath.Join(dir, "stranger-privkey.pem"), StrangerCert: filepath.Join(dir, "stranger-cert.pem"),
	}
	ca, caKey, err := newCert("interop CA", nil, nil)
	if err != nil {
		return nil, err
	}
	p.dir, p.ca, p.caKey = dir, ca, caKey
	if err := writePEM(p.CACert, "CERTIFICATE", ca.Raw); err != nil {
		return nil, err
	}
	if err := issue(p.ServerCert, p.ServerKey, "server", ca, caKey); err != nil {
		return nil, err
	}
	if err := issue(p.ClientCert, p.ClientKey, "client", ca, caKey); err != nil {
		return nil, err
	}
	other, otherKey, err := newCert("other CA", nil, nil)
	if err != nil {
		return nil, err
	}
	return p, issue(p.StrangerCert, p.StrangerKey, "stranger", other, otherKey)
}

// Issue makes a client key and certificate for common name cn, signed
// by the CA, and returns their paths. OVN's RBAC takes a chassis's name
// from its certificate's common name.
func (p *PKI) Issue(cn string) (key, cert string, err error) {
	key = filepath.Join(p.dir, cn+"-privkey.pem")
	cert = filepath.Join(p.dir, cn+"-cert.pem")
	return key, cert, issue(cert, key, cn, p.ca, p.caKey)
}

// issue writes a certificate for cn signed by ca, and its key.
func issue(certPath, keyPath, cn string, ca *x509.Certificate, caKey *ecdsa.PrivateKey) error {
	cert, key, err := newCert(cn, ca, caKey)
	if err != nil {
		return err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := writePEM(keyPath, "EC PRIVATE KEY", der); err != nil {
		return err
	}
	return writePEM(certPath, "CERTIFICATE", cert.Raw)
}

// newCert makes a key and a certificate for cn, self-signed as a CA when
// parent is nil.
func newCert(cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"ovnd interop"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	signer := parentKey
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		parent, signer = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate %s: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}
