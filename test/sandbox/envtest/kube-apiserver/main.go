// kube-apiserver as a standalone binary, built from the same module set as
// the sandbox, for testing the KUBEBUILDER_ASSETS path.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
