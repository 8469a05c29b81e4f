package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// pkiFiles names the files the control plane is started with. They are
// made once per state folder and reused, so a kubeconfig stays valid across
// restarts of the same folder.
type pkiFiles struct {
	caCert, servingCert, servingKey, saKey, tokenFile string
	tokens                                            map[string]string
}

var sandboxUsers = []struct{ name, groups string }{
	{"admin", "system:masters"},
	{"viewer", "vnet:viewers"},
	{"editor", "vnet:editors"},
}

func makePKI(dir string) (*pkiFiles, error) {
	p := &pkiFiles{
		caCert:      filepath.Join(dir, "pki", "ca.crt"),
		servingCert: filepath.Join(dir, "pki", "serving.crt"),
		servingKey:  filepath.Join(dir, "pki", "serving.key"),
		saKey:       filepath.Join(dir, "pki", "sa.key"),
		tokenFile:   filepath.Join(dir, "pki", "tokens.csv"),
		tokens:      map[string]string{},
	}
	if err := os.MkdirAll(filepath.Join(dir, "pki"), 0o700); err != nil {
		return nil, err
	}
	if _, err := os.Stat(p.tokenFile); err != nil {
		if err := p.generate(); err != nil {
			return nil, err
		}
	}
	return p, p.loadTokens()
}

func (p *pkiFiles) generate() error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "vnet-sandbox-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, _ := x509.ParseCertificate(caDER)

	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	srvKeyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		return err
	}
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	writes := []struct {
		path, kind string
		der        []byte
	}{
		{p.caCert, "CERTIFICATE", caDER},
		{p.servingCert, "CERTIFICATE", srvDER},
		{p.servingKey, "EC PRIVATE KEY", srvKeyDER},
		{p.saKey, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(saKey)},
	}
	for _, w := range writes {
		if err := os.WriteFile(w.path, pem.EncodeToMemory(&pem.Block{Type: w.kind, Bytes: w.der}), 0o600); err != nil {
			return err
		}
	}
	var csv string
	for i, u := range sandboxUsers {
		buf := make([]byte, 24)
		if _, err := rand.Read(buf); err != nil {
			return err
		}
		csv += fmt.Sprintf("%s,%s,uid-%d,\"%s\"\n", hex.EncodeToString(buf), u.name, i+1, u.groups)
	}
	return os.WriteFile(p.tokenFile, []byte(csv), 0o600)
}

func (p *pkiFiles) loadTokens() error {
	data, err := os.ReadFile(p.tokenFile)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if fields := strings.SplitN(line, ",", 3); len(fields) >= 2 {
			p.tokens[fields[1]] = fields[0]
		}
	}
	return nil
}
