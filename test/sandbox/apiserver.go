package main

import (
	"context"

	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

// startAPIServer runs kube-apiserver in this process with the given flags;
// its exit is reported on done.
func startAPIServer(ctx context.Context, args []string, done chan<- error) {
	cmd := app.NewAPIServerCommand()
	cmd.SetArgs(args)
	go func() { done <- cmd.ExecuteContext(ctx) }()
}
