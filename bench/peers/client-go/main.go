// Sync benchmark peer: client-go's reflector, through a SharedIndexInformer over ConfigMaps in
// one namespace. Usage: client-go-peer <namespace> <objects> <updates>; KUBECONFIG names the cluster.
// Prints `ready`, then `synced <n>` once the informer has synced, then `done <n>` after <updates>
// modifications, then waits for stdin to close.
//
// Store memory mode: client-go-peer store-memory <pod|configmap> <drop-managed-fields: true|false> reads watch
// events (JSON lines) from stdin, decodes each into its typed object as an informer does, keeps it in
// a cache.Store (the informer's indexer), and prints the Go heap bytes per object after a GC.
//
// Storm benchmark mode: client-go-peer storm <namespace> starts the same informer, prints `ready`
// and runs (never waiting for a sync: the server may never allow one) until stdin closes.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func storm(ns string) {
	config, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	must(err)
	clientset, err := kubernetes.NewForConfig(config)
	must(err)
	factory := informers.NewSharedInformerFactoryWithOptions(clientset, 0, informers.WithNamespace(ns))
	informer := factory.Core().V1().ConfigMaps().Informer()
	_, err = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{})
	must(err)
	stop := make(chan struct{})
	fmt.Println("ready")
	factory.Start(stop)
	_, _ = io.Copy(io.Discard, os.Stdin)
	close(stop)
	factory.Shutdown()
}

// Scale (shared) mode: client-go-peer scale-shared <prefix> <pairs> <subscribers> starts one
// SharedInformerFactory per namespace <prefix>-0 … <prefix>-<pairs-1> (its ConfigMaps informer: one
// list and one watch), and spreads <subscribers> event handlers over them. Prints `ready`, then
// `synced <n>` (the ADDs all handlers received) once every handler has synced, then idles until stdin closes.
func scaleShared(prefix string, pairs int, subscribers int) {
	config, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	must(err)
	config.QPS = -1 // no client-side throttling of the initial lists (the Node peers have none either)
	clientset, err := kubernetes.NewForConfig(config)
	must(err)
	stop := make(chan struct{})
	var added atomic.Int64
	var syncs []cache.InformerSynced
	factories := make([]informers.SharedInformerFactory, pairs)
	for i := 0; i < pairs; i++ {
		factories[i] = informers.NewSharedInformerFactoryWithOptions(clientset, 0, informers.WithNamespace(fmt.Sprintf("%s-%d", prefix, i)))
	}
	fmt.Println("ready")
	for s := 0; s < subscribers; s++ {
		informer := factories[s%pairs].Core().V1().ConfigMaps().Informer()
		reg, err := informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: func(obj interface{}) { added.Add(1) },
		})
		must(err)
		syncs = append(syncs, reg.HasSynced)
	}
	for _, f := range factories {
		f.Start(stop)
	}
	if !cache.WaitForCacheSync(stop, syncs...) {
		must(fmt.Errorf("cache did not sync"))
	}
	fmt.Printf("synced %d\n", added.Load())
	_, _ = io.Copy(io.Discard, os.Stdin)
	close(stop)
	for _, f := range factories {
		f.Shutdown()
	}
}

func heapAlloc() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func storeMemory(kind string, dropManagedFields bool) {
	store := cache.NewStore(cache.MetaNamespaceKeyFunc)
	scanner := bufio.NewScanner(os.Stdin)
	scanner.Buffer(make([]byte, 1<<20), 16<<20)
	before := heapAlloc()
	n := 0
	for scanner.Scan() {
		if len(scanner.Bytes()) == 0 {
			continue
		}
		var event struct {
			Type   string          `json:"type"`
			Object json.RawMessage `json:"object"`
		}
		must(json.Unmarshal(scanner.Bytes(), &event))
		var obj metav1.Object
		if kind == "pod" {
			pod := &corev1.Pod{}
			must(json.Unmarshal(event.Object, pod))
			obj = pod
		} else {
			cm := &corev1.ConfigMap{}
			must(json.Unmarshal(event.Object, cm))
			obj = cm
		}
		if dropManagedFields {
			obj.SetManagedFields(nil) // what an informer's SetTransform is used for
		}
		must(store.Add(obj))
		n++
	}
	must(scanner.Err())
	after := heapAlloc()
	if len(store.ListKeys()) != n {
		must(fmt.Errorf("store lost objects"))
	}
	fmt.Printf("{\"objects\":%d,\"bytesPerObject\":%d}\n", n, (after-before)/uint64(n))
	runtime.KeepAlive(store)
}

func main() {
	if len(os.Args) == 4 && os.Args[1] == "store-memory" {
		storeMemory(os.Args[2], os.Args[3] == "true")
		return
	}
	if len(os.Args) == 5 && os.Args[1] == "scale-shared" {
		pairs, err := strconv.Atoi(os.Args[3])
		must(err)
		subscribers, err := strconv.Atoi(os.Args[4])
		must(err)
		scaleShared(os.Args[2], pairs, subscribers)
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "storm" {
		storm(os.Args[2])
		return
	}
	ns := os.Args[1]
	objects, err := strconv.Atoi(os.Args[2])
	must(err)
	updates, err := strconv.Atoi(os.Args[3])
	must(err)
	config, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	must(err)
	// client-go's defaults throttle clients at 5 QPS; a watch is one request, so they do not matter here.
	clientset, err := kubernetes.NewForConfig(config)
	must(err)
	factory := informers.NewSharedInformerFactoryWithOptions(clientset, 0, informers.WithNamespace(ns))
	informer := factory.Core().V1().ConfigMaps().Informer()
	var added, modified atomic.Int64
	done := make(chan struct{})
	_, err = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			if cm, ok := obj.(*corev1.ConfigMap); ok && cm.Name != "" {
				added.Add(1)
			}
		},
		UpdateFunc: func(_, obj interface{}) {
			if cm, ok := obj.(*corev1.ConfigMap); ok && cm.Name != "" {
				if modified.Add(1) == int64(updates) {
					close(done)
				}
			}
		},
	})
	must(err)
	stop := make(chan struct{})
	fmt.Println("ready")
	factory.Start(stop)
	if !cache.WaitForCacheSync(stop, informer.HasSynced) {
		must(fmt.Errorf("cache did not sync"))
	}
	n := len(informer.GetStore().ListKeys())
	fmt.Printf("synced %d\n", n)
	if n != objects {
		fmt.Fprintf(os.Stderr, "expected %d objects, got %d\n", objects, n)
	}
	<-done
	fmt.Printf("done %d %d\n", modified.Load(), added.Load())
	_, _ = io.Copy(io.Discard, os.Stdin)
	close(stop)
}
