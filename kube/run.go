package kube

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tsnctl/tsnctl/safefile"
	"log/slog"
	"reflect"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/tsnctl/tsnctl/agent"
)

// DefaultFile is where the node's selected configuration is written for the agent.
const DefaultFile = "/run/tsnctl/kube/config.json"

// FieldManager is the agent's name in the objects' managed fields.
const FieldManager = "tsnctl-agent"

var nodes = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}

// Options configure Run.
type Options struct {
	Node   string       // this node's name (the pod's spec.nodeName, through the downward API)
	Config *rest.Config // how to reach the API server (in a pod: rest.InClusterConfig)
	File   string       // where the selected configuration goes for the agent (default DefaultFile)
	// Heartbeat: the TSNNode's status is written on every change and at least this often (default 30s).
	Heartbeat time.Duration
	Log       *slog.Logger
}

// Run keeps the agent's configuration equal to the TSNConfig that selects the node, and the
// node's TSNNode status equal to what the agent knows, until ctx ends. The agent (made from ao)
// starts once a configuration is selected; started, if set, is told when. Later selections reach
// it through its reload path. No TSNConfig, two of them, or one the agent will not take leave the
// configuration in force as it is (none at first) and are reported in the TSNNode's conditions.
func Run(ctx context.Context, o Options, ao agent.Options, started func(*agent.Agent)) error {
	if o.Node == "" {
		return errors.New("--node-name: the node's name is needed (in a pod: env NODE_NAME from spec.nodeName)")
	}
	if o.File == "" {
		o.File = DefaultFile
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	dyn, err := dynamic.NewForConfig(o.Config)
	if err != nil {
		return err
	}
	r := &runner{o: o, dyn: dyn, poke: make(chan struct{}, 1), reload: make(chan struct{}, 1)}
	if ao.Reload != nil { // SIGHUP still works: it re-reads the file kube wrote
		go forward(ctx, ao.Reload, r.reload)
	}
	ao.File, ao.Reload = o.File, r.reload

	all := dynamicinformer.NewDynamicSharedInformerFactory(dyn, 0)
	own := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, "", func(lo *metav1.ListOptions) {
		lo.FieldSelector = "metadata.name=" + o.Node
	})
	r.configs, r.node = all.ForResource(TSNConfigs).Informer(), own.ForResource(nodes).Informer()
	poke := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { r.wake() },
		UpdateFunc: func(any, any) { r.wake() },
		DeleteFunc: func(any) { r.wake() },
	}
	for _, inf := range []cache.SharedIndexInformer{r.configs, r.node} {
		if _, err := inf.AddEventHandler(poke); err != nil {
			return err
		}
	}
	all.Start(ctx.Done())
	own.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), r.configs.HasSynced, r.node.HasSynced) {
		return fmt.Errorf("reading TSNConfigs and node %s from the API server: %w", o.Node, ctx.Err())
	}
	r.prev = r.current(ctx)

	var agentDone chan error
	refresh := time.NewTicker(time.Second) // the agent's status is read this often
	defer refresh.Stop()
	r.wake()
	for {
		select {
		case <-ctx.Done():
			if agentDone != nil {
				return <-agentDone
			}
			return nil
		case err := <-agentDone:
			return err
		case <-r.poke:
			if r.selectConfig() && r.agent == nil {
				a := agent.New(ao)
				r.agent = a
				if started != nil {
					started(a)
				}
				agentDone = make(chan error, 1)
				go func() { agentDone <- a.Run(ctx) }()
			}
		case <-refresh.C:
		}
		r.publish(ctx)
	}
}

// runner is Run's state; only Run's loop touches it.
type runner struct {
	o       Options
	dyn     dynamic.Interface
	configs cache.SharedIndexInformer
	node    cache.SharedIndexInformer
	poke    chan struct{}
	reload  chan struct{}
	agent   *agent.Agent

	sel       Selection
	written   []byte // the configuration last written for the agent
	prev      TSNNodeStatus
	published time.Time
	created   bool      // the TSNNode was applied
	owner     types.UID // with this node as its owner
}

func (r *runner) wake() {
	select {
	case r.poke <- struct{}{}:
	default:
	}
}

func forward(ctx context.Context, from <-chan struct{}, to chan<- struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-from:
			select {
			case to <- struct{}{}:
			default:
			}
		}
	}
}

// selectConfig re-selects the node's TSNConfig and hands a new configuration to the agent; it
// reports whether the agent has a configuration to run.
func (r *runner) selectConfig() bool {
	var cfgs []TSNConfig
	for _, obj := range r.configs.GetStore().List() {
		var c TSNConfig
		if err := fromUnstructured(obj, &c); err != nil {
			r.o.Log.Error("a TSNConfig cannot be read", "err", err)
			continue
		}
		cfgs = append(cfgs, c)
	}
	var labels map[string]string
	if obj, ok, _ := r.node.GetStore().GetByKey(r.o.Node); ok {
		labels = obj.(*unstructured.Unstructured).GetLabels()
	}
	c, err := Select(cfgs, r.o.Node, labels)
	if err == nil {
		err = r.hand(c)
	}
	if err != nil {
		if r.sel.Err == nil || r.sel.Err.Error() != err.Error() {
			r.o.Log.Error("no new configuration for this node; the one in force stays", "err", err)
		}
		r.sel.Err = err
		return r.written != nil
	}
	r.sel.Err = nil
	return true
}

// hand writes c's configuration for the agent when it differs from the last one, after checking
// it as the agent will, and asks the agent to reload.
func (r *runner) hand(c *TSNConfig) error {
	ref := &ConfigRef{Name: c.Name, ResourceVersion: c.ResourceVersion}
	data, err := c.ConfigFor(r.o.Node)
	if err != nil {
		return err
	}
	if r.written != nil && bytes.Equal(data, r.written) {
		ref.Hash = r.sel.InForce.Hash
		r.sel.InForce = ref
		return nil
	}
	name := fmt.Sprintf("TSNConfig %s (spec.config)", c.Name)
	_, hash, err := agent.Check(name, data)
	if err != nil {
		return err
	}
	if err := safefile.WriteFile(r.o.File, data, 0o644); err != nil {
		return err
	}
	r.written = data
	ref.Hash = hash
	r.sel.InForce = ref
	r.o.Log.Info("configuration selected", "tsnconfig", c.Name, "resource_version", c.ResourceVersion, "config_hash", hash)
	if r.agent != nil {
		select {
		case r.reload <- struct{}{}:
		default:
		}
	}
	return nil
}

// current reads the TSNNode's status as it is (to keep its conditions' transition times).
func (r *runner) current(ctx context.Context) TSNNodeStatus {
	var n TSNNode
	u, err := r.dyn.Resource(TSNNodes).Get(ctx, r.o.Node, metav1.GetOptions{})
	if err == nil {
		err = fromUnstructured(u, &n)
	}
	if err != nil && !apierrors.IsNotFound(err) {
		r.o.Log.Warn("cannot read this node's TSNNode", "err", err)
	}
	return n.Status
}

// publish writes the TSNNode's status when it changed, or on the heartbeat.
func (r *runner) publish(ctx context.Context) {
	var st *agent.Status
	if r.agent != nil {
		s := r.agent.Snapshot()
		st = &s
	}
	now := time.Now()
	next := NodeStatus(r.prev, st, r.sel, now)
	same := next
	same.ObservedTime = r.prev.ObservedTime
	if reflect.DeepEqual(same, r.prev) && now.Sub(r.published) < r.o.Heartbeat {
		return
	}
	if err := r.apply(ctx, next); err != nil {
		r.o.Log.Error("cannot publish this node's TSNNode", "err", err)
		return
	}
	r.prev, r.published = next, now
}

func (r *runner) apply(ctx context.Context, st TSNNodeStatus) error {
	obj := func() *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": Group + "/" + Version, "kind": "TSNNode",
			"metadata": map[string]any{"name": r.o.Node},
		}}
	}
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: true}
	// The object itself, once (and again if the node was re-created): it goes with its node.
	var owner types.UID
	if n, ok, _ := r.node.GetStore().GetByKey(r.o.Node); ok {
		owner = n.(*unstructured.Unstructured).GetUID()
	}
	if !r.created || owner != r.owner {
		node := obj()
		if owner != "" {
			node.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: r.o.Node, UID: owner}})
		}
		if _, err := r.dyn.Resource(TSNNodes).Apply(ctx, r.o.Node, node, opts); err != nil {
			return err
		}
		r.created, r.owner = true, owner
	}
	status := obj()
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	status.Object["status"] = m
	_, err = r.dyn.Resource(TSNNodes).ApplyStatus(ctx, r.o.Node, status, opts)
	return err
}

// fromUnstructured converts an object of the API into one of this package's types.
func fromUnstructured(obj any, into any) error {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return fmt.Errorf("unexpected object %T", obj)
	}
	b, err := json.Marshal(u.Object)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, into)
}
