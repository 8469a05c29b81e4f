// pki makes the certificates the sandbox's KubeVirt needs, once per folder:
//
//	ca.crt, ca.key                      a CA (virt-api's webhooks trust it as caBundle,
//	                                    kubevirt-ca holds it, kube-apiserver takes it as
//	                                    --requestheader-client-ca-file)
//	virt-api.crt, virt-api.key          virt-api's serving certificate (127.0.0.1, localhost)
//	front-proxy.crt, front-proxy.key    kube-apiserver's client certificate towards
//	                                    aggregated servers (CN front-proxy-client)
//
// Files that exist are kept. Usage: pki DIR
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

const validity = 10 * 365 * 24 * time.Hour

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: pki DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintf(os.Stderr, "pki: %v\n", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	ca, caKey, err := loadOrMakeCA(dir)
	if err != nil {
		return err
	}
	leaves := []struct {
		name string
		tmpl x509.Certificate
	}{
		{"virt-api", x509.Certificate{
			Subject:     pkix.Name{CommonName: "virt-api.kubevirt.svc"},
			DNSNames:    []string{"localhost", "virt-api.kubevirt.svc", "virt-api.kubevirt.svc.cluster.local"},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}},
		{"front-proxy", x509.Certificate{
			Subject:     pkix.Name{CommonName: "front-proxy-client"},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}},
	}
	for _, l := range leaves {
		if exists(filepath.Join(dir, l.name+".crt")) && exists(filepath.Join(dir, l.name+".key")) {
			continue
		}
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		t := l.tmpl
		t.SerialNumber = serial()
		t.NotBefore = time.Now().Add(-time.Hour)
		t.NotAfter = time.Now().Add(validity)
		t.KeyUsage = x509.KeyUsageDigitalSignature
		der, err := x509.CreateCertificate(rand.Reader, &t, ca, &key.PublicKey, caKey)
		if err != nil {
			return err
		}
		if err := writePair(dir, l.name, der, key); err != nil {
			return err
		}
	}
	return nil
}

func loadOrMakeCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	crtPath, keyPath := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	if exists(crtPath) && exists(keyPath) {
		crt, err := readPEM(crtPath)
		if err != nil {
			return nil, nil, err
		}
		keyDER, err := readPEM(keyPath)
		if err != nil {
			return nil, nil, err
		}
		cert, err := x509.ParseCertificate(crt)
		if err != nil {
			return nil, nil, err
		}
		key, err := x509.ParseECPrivateKey(keyDER)
		return cert, key, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	t := x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "vnet-sandbox-kubevirt-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, &t, &t, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	if err := writePair(dir, "ca", der, key); err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func writePair(dir, name string, der []byte, key *ecdsa.PrivateKey) error {
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func readPEM(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New(path + ": no PEM block")
	}
	return block.Bytes, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
