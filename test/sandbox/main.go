// vnet-sandbox runs a real etcd (embedded, go.etcd.io/etcd/server/v3) and a
// real kube-apiserver (k8s.io/kubernetes used as a module) in one process, so
// that the kubectl-vnet tests need no downloaded binaries. It is started by
// scripts/sandbox-supervisor.mjs, which prepares credentials, passes the
// kube-apiserver flags, installs CRDs and RBAC and writes kubeconfigs; the
// same supervisor runs envtest's kube-apiserver and etcd binaries instead when
// KUBEBUILDER_ASSETS is set.
//
//	vnet-sandbox --etcd-dir DIR --etcd-client-port N --etcd-peer-port M -- KUBE-APISERVER-FLAGS...
//
// It listens on 127.0.0.1 only and runs until SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	etcdDir := flag.String("etcd-dir", "", "etcd data folder")
	clientPort := flag.Int("etcd-client-port", 0, "etcd client port on 127.0.0.1")
	peerPort := flag.Int("etcd-peer-port", 0, "etcd peer port on 127.0.0.1")
	flag.Parse()
	if *etcdDir == "" || *clientPort == 0 || *peerPort == 0 {
		fmt.Fprintln(os.Stderr, "vnet-sandbox: --etcd-dir, --etcd-client-port and --etcd-peer-port are required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, *etcdDir, *clientPort, *peerPort, flag.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "vnet-sandbox: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, etcdDir string, clientPort, peerPort int, apiserverArgs []string) error {
	stopEtcd, err := startEtcd(etcdDir, clientPort, peerPort)
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	defer stopEtcd()
	apiErr := make(chan error, 1)
	startAPIServer(ctx, apiserverArgs, apiErr)
	select {
	case <-ctx.Done():
		return nil
	case err := <-apiErr:
		if err != nil {
			return fmt.Errorf("kube-apiserver stopped: %w", err)
		}
		return nil
	}
}
