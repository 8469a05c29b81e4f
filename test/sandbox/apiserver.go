package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func apiserverArgs(dir string, pki *pkiFiles, etcdURL string, port int) []string {
	return []string{
		"--etcd-servers=" + etcdURL,
		"--secure-port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--tls-cert-file=" + pki.servingCert,
		"--tls-private-key-file=" + pki.servingKey,
		"--client-ca-file=" + pki.caCert,
		"--cert-dir=" + filepath.Join(dir, "pki"),
		"--service-account-issuer=https://127.0.0.1:" + strconv.Itoa(port),
		"--service-account-key-file=" + pki.saKey,
		"--service-account-signing-key-file=" + pki.saKey,
		"--service-cluster-ip-range=10.0.0.0/24",
		"--authorization-mode=RBAC",
		"--token-auth-file=" + pki.tokenFile,
		"--disable-admission-plugins=ServiceAccount",
		"--allow-privileged=true",
		"--endpoint-reconciler-type=none",
		"--v=0",
	}
}

// startAPIServer runs kube-apiserver in this process (k8s.io/kubernetes as a
// module) or the given binary. Its exit is reported on done.
func startAPIServer(ctx context.Context, dir string, pki *pkiFiles, etcdURL string, port int, bin string, done chan<- error) (func(), error) {
	args := apiserverArgs(dir, pki, etcdURL, port)
	if bin != "" {
		cmd := exec.CommandContext(ctx, bin, args...)
		log, err := os.Create(filepath.Join(dir, "apiserver.log"))
		if err != nil {
			return nil, err
		}
		cmd.Stdout, cmd.Stderr = log, log
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		go func() { done <- cmd.Wait() }()
		return func() { _ = cmd.Process.Signal(os.Interrupt) }, nil
	}
	cmd := app.NewAPIServerCommand()
	cmd.SetArgs(args)
	cmd.SetContext(ctx)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	return func() {}, nil
}

// waitReady polls /readyz as admin until the server answers ok.
func waitReady(ctx context.Context, dir string, apiErr <-chan error) error {
	cfg, err := restConfig(dir, "admin")
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cfg.TLSClientConfig.CAData)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+cfg.BearerToken)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-apiErr:
			return fmt.Errorf("kube-apiserver exited: %v (see %s)", err, filepath.Join(dir, "sandbox.log"))
		case <-time.After(250 * time.Millisecond):
		}
	}
}
