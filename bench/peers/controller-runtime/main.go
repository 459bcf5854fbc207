// Reconcile benchmark peer: controller-runtime over ConfigMaps in one namespace, MaxConcurrentReconciles=4.
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func main() {
	ns := os.Args[1]
	objects, _ := strconv.Atoi(os.Args[2])
	updates, _ := strconv.Atoi(os.Args[3])
	cfg := config.GetConfigOrDie()
	mgr, err := manager.New(cfg, manager.Options{
		Cache:   cache.Options{DefaultNamespaces: map[string]cache.Config{ns: {}}},
		Metrics: metricsserver.Options{BindAddress: "0"},
	})
	if err != nil {
		panic(err)
	}
	var mu sync.Mutex
	seen := map[types.NamespacedName]bool{}
	updated := map[types.NamespacedName]bool{}
	var lat []float64
	reconciles := 0
	synced := false
	done := false
	c := mgr.GetClient()
	r := reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		var cm corev1.ConfigMap
		err := c.Get(ctx, req.NamespacedName, &cm)
		mu.Lock()
		defer mu.Unlock()
		reconciles++
		if !synced {
			seen[req.NamespacedName] = true
			if len(seen) == objects {
				synced = true
				fmt.Println("synced", len(seen))
			}
		}
		if err != nil {
			return reconcile.Result{}, client.IgnoreNotFound(err)
		}
		t, ok := cm.Data["t"]
		if !ok {
			return reconcile.Result{}, nil
		}
		ms, _ := strconv.ParseInt(t, 10, 64)
		lat = append(lat, float64(time.Now().UnixMilli()-ms))
		updated[req.NamespacedName] = true
		if !done && len(updated) == updates {
			done = true
			sort.Float64s(lat)
			p := func(q float64) float64 {
				i := int(q * float64(len(lat)))
				if i >= len(lat) {
					i = len(lat) - 1
				}
				return lat[i]
			}
			fmt.Println("done", reconciles, p(0.5), p(0.99))
		}
		return reconcile.Result{}, nil
	})
	if err := builder.ControllerManagedBy(mgr).For(&corev1.ConfigMap{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: 4}).Complete(r); err != nil {
		panic(err)
	}
	fmt.Println("ready")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		s := bufio.NewScanner(os.Stdin)
		for s.Scan() {
		}
		cancel()
	}()
	if err := mgr.Start(ctx); err != nil {
		panic(err)
	}
}
