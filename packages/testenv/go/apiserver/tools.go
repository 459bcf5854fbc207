//go:build tools

// Package tools pins k8s.io/kubernetes so `go mod tidy` keeps it.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
