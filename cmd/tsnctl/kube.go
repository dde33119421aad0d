package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	pluginapi "k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1"

	"github.com/tsnctl/tsnctl/agent"
	"github.com/tsnctl/tsnctl/deviceplugin"
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

// restConfig is how to reach the API server: --kubeconfig, else the pod's service account.
func restConfig(kubeconfig string) (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	if kubeconfig != "" {
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	} else {
		cfg, err = rest.InClusterConfig()
	}
	if err != nil {
		return nil, param.Errorf("kubeconfig", kubeconfig, "%w", err)
	}
	return cfg, nil
}

// run runs the agent under kube.Run.
func (k *kubeFlags) run(ctx context.Context, o agent.Options, started func(*agent.Agent), log *slog.Logger) error {
	cfg, err := restConfig(k.kubeconfig)
	if err != nil {
		return err
	}
	return kube.Run(ctx, kube.Options{Node: k.node, Config: cfg, File: k.file, Log: log}, o, started)
}

func fleetCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "fleet", Short: "The fleet's configuration on Kubernetes (TSNConfigs and nodes)"}
	var files []string
	var kubeconfig, output string
	check := &cobra.Command{
		Use:   "check (-f FILE... | --kubeconfig FILE)",
		Short: "Do the fleet's schedules agree? Same cycle, each node's cycles starting at its declared offset; exit 1 if not",
		Long: `fleet check selects each node's TSNConfig as its agent does (two for one node is a problem) and
compares the taprio schedules they give: all nodes run the fleet's cycle (the one most of them run),
and each node's cycles start at its offset (spec.offsets, base-time-offset) from the fleet's common
phase: base-time auto starts on a multiple of the cycle, on every node alike; a given base-time
must lie on such a multiple. It reads the API server (--kubeconfig), or files of TSNConfigs and
Nodes (-f, e.g. kubectl get tsnconfigs,nodes -o yaml > fleet.yaml), so that CI can check a change
before it is applied.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var f *kube.Fleet
			switch {
			case len(files) > 0 && kubeconfig != "":
				return fmt.Errorf("-f and --kubeconfig: check files or the API server, not both")
			case len(files) > 0:
				f = &kube.Fleet{}
				for _, p := range files {
					if err := kube.ReadFleetFile(f, p); err != nil {
						return param.Errorf("file", p, "%w", err)
					}
				}
			default:
				cfg, err := restConfig(kubeconfig)
				if err != nil {
					return err
				}
				if f, err = kube.ReadFleet(cmd.Context(), cfg); err != nil {
					return err
				}
			}
			rows, err := kube.CheckFleet(f.Configs, f.Nodes)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rows); err != nil {
					return err
				}
			} else if err := kube.WriteFleetText(out, rows); err != nil {
				return err
			}
			for _, r := range rows {
				if r.Problem != "" {
					return exitError{1}
				}
			}
			return nil
		},
	}
	check.Flags().StringSliceVarP(&files, "file", "f", nil, "files of TSNConfigs and Nodes (YAML or JSON; repeatable)")
	check.Flags().StringVar(&kubeconfig, "kubeconfig", "", "read the API server (default without -f: the pod's service account)")
	outputFlag(check.Flags(), &output, "output format", "text", "json")
	cmd.AddCommand(check)
	return cmd
}

func devicePluginCmd() *cobra.Command {
	var p deviceplugin.Plugin
	var logFormat string
	cmd := &cobra.Command{
		Use:   "device-plugin",
		Short: "Kubelet device plugin: the node's PTP hardware clocks for the agent's pod, as " + deviceplugin.ResourceName,
		Long: `device-plugin offers the node's PTP hardware clocks to the kubelet as the extended resource
` + deviceplugin.ResourceName + `, one device per node ("` + deviceplugin.DeviceID + `": every /dev/ptpN the node has when a container
starts). A pod asking for it (resources.limits: {` + deviceplugin.ResourceName + `: 1}, as the Helm chart's agent does) gets
the clocks' device nodes, read-write, which a hostPath volume alone does not give an unprivileged
container. One device per node means one holder: a second agent cannot be scheduled on the node.
It runs as a DaemonSet of its own (the chart's tsnctl-device-plugin) with the kubelet's
device-plugin directory mounted, and registers again when the kubelet restarts.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p.Log = newLogger(cmd.ErrOrStderr(), logFormat)
			if _, err := os.Stat(p.Dir); err != nil {
				return param.Errorf("dir", p.Dir, "the kubelet's device-plugin directory: %w", err)
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return p.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.Dir, "dir", pluginapi.DevicePluginPath, "the kubelet's device-plugin directory")
	f.StringVar(&p.ClassDir, "class-dir", deviceplugin.DefaultClassDir, "where the kernel lists the PHCs")
	choiceFlag(f, &logFormat, "log-format", "log format: text or json", "text", "json")
	return cmd
}
