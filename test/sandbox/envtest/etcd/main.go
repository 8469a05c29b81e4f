// etcd as a standalone binary, built from the same module set as the
// sandbox, for testing the KUBEBUILDER_ASSETS path (envtest's convention of
// separate kube-apiserver and etcd binaries) without downloading anything.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
