// vnet-sandbox runs a real etcd (embedded) and a real kube-apiserver in one
// process, on 127.0.0.1 only, installs the KubeVirt, Multus and Kube-OVN CRDs,
// three token users (admin, viewer, editor) with RBAC as a KubeVirt cluster
// grants it, and writes kubeconfigs for them. It is the control plane of the
// kubectl-vnet test suite and demo; it is not a KubeVirt.
//
//	vnet-sandbox --dir DIR --crds CRD_DIR [--apiserver BIN --etcd BIN]
//
// It writes DIR/ready once every CRD is Established and runs until SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.dir, "dir", ".sandbox", "state folder: certificates, etcd data, kubeconfigs, logs")
	flag.StringVar(&o.crdDir, "crds", "", "folder of CRD manifests to install")
	flag.StringVar(&o.apiserverBin, "apiserver", "", "run this kube-apiserver binary instead of the built-in one")
	flag.StringVar(&o.etcdBin, "etcd", "", "run this etcd binary instead of the embedded one")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "vnet-sandbox: %v\n", err)
		os.Exit(1)
	}
}

type options struct {
	dir, crdDir, apiserverBin, etcdBin string
}

func run(o options) error {
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(dir, "ready"))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	pki, err := makePKI(dir)
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}

	etcdURL, stopEtcd, err := startEtcd(ctx, dir, o.etcdBin)
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	defer stopEtcd()

	port, err := freePort()
	if err != nil {
		return err
	}
	apiErr := make(chan error, 1)
	stopAPI, err := startAPIServer(ctx, dir, pki, etcdURL, port, o.apiserverBin, apiErr)
	if err != nil {
		return fmt.Errorf("kube-apiserver: %w", err)
	}
	defer stopAPI()

	server := fmt.Sprintf("https://127.0.0.1:%d", port)
	if err := writeKubeconfigs(dir, server, pki); err != nil {
		return err
	}
	setupCtx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	if err := waitReady(setupCtx, dir, apiErr); err != nil {
		return fmt.Errorf("waiting for kube-apiserver: %w", err)
	}
	if err := bootstrap(setupCtx, dir, o.crdDir); err != nil {
		return fmt.Errorf("installing CRDs and RBAC: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ready"), []byte(server+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "vnet-sandbox: ready at %s\n", server)

	select {
	case <-ctx.Done():
	case err := <-apiErr:
		if err != nil {
			return fmt.Errorf("kube-apiserver stopped: %w", err)
		}
	}
	_ = os.Remove(filepath.Join(dir, "ready"))
	return nil
}
