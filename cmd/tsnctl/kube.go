package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tsnctl/tsnctl/agent"
	"github.com/tsnctl/tsnctl/kube"
	"github.com/tsnctl/tsnctl/param"
)

// kubeFlags are tsnctl agent's Kubernetes flags.
type kubeFlags struct {
	enabled    bool
	node       string
	kubeconfig string
	file       string
}

func (k *kubeFlags) register(f *pflag.FlagSet) {
	f.BoolVar(&k.enabled, "kubernetes", false, "take the configuration from this node's TSNConfig and publish its TSNNode")
	f.StringVar(&k.node, "node-name", os.Getenv("NODE_NAME"), "this node's name in the cluster (--kubernetes)")
	f.StringVar(&k.kubeconfig, "kubeconfig", "", "kubeconfig file (--kubernetes; default: the pod's service account)")
	f.StringVar(&k.file, "kube-file", kube.DefaultFile, "where the selected configuration is kept for the agent (--kubernetes)")
}

// run runs the agent under kube.Run.
func (k *kubeFlags) run(ctx context.Context, o agent.Options, started func(*agent.Agent), log *slog.Logger) error {
	var cfg *rest.Config
	var err error
	if k.kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", k.kubeconfig)
	} else {
		cfg, err = rest.InClusterConfig()
	}
	if err != nil {
		return param.Errorf("kubeconfig", k.kubeconfig, "%w", err)
	}
	return kube.Run(ctx, kube.Options{Node: k.node, Config: cfg, File: k.file, Log: log}, o, started)
}
