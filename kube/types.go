// Package kube is the agent's Kubernetes side: it takes the node's configuration from the
// TSNConfig that selects the node (by name or labels) and publishes the node's state as its
// TSNNode (deploy/helm/tsnctl/crds). The agent itself does not know Kubernetes: kube writes the
// selected configuration to the agent's file and asks for a reload, and reads the agent's
// published Status to write the TSNNode's status.
package kube

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Group and version of tsnctl's custom resources.
const (
	Group   = "tsnctl.io"
	Version = "v1alpha1"
)

// The resources.
var (
	TSNConfigs = schema.GroupVersionResource{Group: Group, Version: Version, Resource: "tsnconfigs"}
	TSNNodes   = schema.GroupVersionResource{Group: Group, Version: Version, Resource: "tsnnodes"}
)

// TSNConfig is a tsnctl configuration for the nodes it selects.
type TSNConfig struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              TSNConfigSpec `json:"spec"`
}

// TSNConfigSpec selects nodes by name, by labels, or both (a node either selects).
type TSNConfigSpec struct {
	NodeNames    []string              `json:"nodeNames,omitempty"`
	NodeSelector *metav1.LabelSelector `json:"nodeSelector,omitempty"`
	// Offsets give, per node name, the phase of that node's schedules in the fleet's common cycle:
	// the node's configuration gets it as every taprio's base-time-offset.
	Offsets map[string]string `json:"offsets,omitempty"`
	// Config is the tsnctl file, as the cluster stores it (JSON); configs.Parse reads it.
	Config json.RawMessage `json:"config"`
}

// TSNNode carries one node's state; its name is the node's.
type TSNNode struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Status            TSNNodeStatus `json:"status,omitzero"`
}

// TSNNodeStatus is what the node's agent knows (the CRD's schema documents each field).
type TSNNodeStatus struct {
	ObservedTime metav1.Time        `json:"observedTime,omitzero"`
	LastChange   metav1.Time        `json:"lastChange,omitzero"`
	Config       *ConfigRef         `json:"config,omitempty"`
	Repairs      uint64             `json:"repairs"`
	Interfaces   []InterfaceStatus  `json:"interfaces,omitempty"`
	Sync         *SyncStatus        `json:"sync,omitempty"`
	LastError    string             `json:"lastError,omitempty"`
	Conditions   []metav1.Condition `json:"conditions,omitempty"`
}

// ConfigRef names the configuration in force.
type ConfigRef struct {
	Name            string `json:"name"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	Hash            string `json:"hash,omitempty"`
}

// InterfaceStatus is one managed interface.
type InterfaceStatus struct {
	Name       string      `json:"name"`
	State      string      `json:"state"`
	Reason     string      `json:"reason,omitempty"`
	Repairs    uint64      `json:"repairs"`
	Failures   uint64      `json:"failures"`
	LastDrift  string      `json:"lastDrift,omitempty"`
	LastChange metav1.Time `json:"lastChange,omitzero"`
}

// SyncStatus is time sync's state.
type SyncStatus struct {
	State                string `json:"state"`
	OffsetNanoseconds    int64  `json:"offsetNanoseconds"`
	PathDelayNanoseconds int64  `json:"pathDelayNanoseconds"`
	Grandmaster          string `json:"grandmaster,omitempty"`
}

// Condition types of a TSNNode.
const (
	ConfigSelected = "ConfigSelected"
	Configured     = "Configured"
	TimeSynced     = "TimeSynced"
	Ready          = "Ready"
)
