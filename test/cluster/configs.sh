# Configuration files of containerd, the CNI bridge, the kubelet and kube-proxy (sourced).

write_containerd_config() {
  mkdir -p "$STATE/containerd" "$STATE/cni/net.d"
  cat >"$STATE/containerd/config.toml" <<TOML
version = 2
root = "$CONTAINERD_ROOT"
state = "$RUN/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "$CONTAINERD_SOCK"

[ttrpc]
  address = "$RUN/containerd.ttrpc.sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$(jq -r .pause.image "$CLUSTER_DIR/images.json")"
  # No CAP_SYS_RESOURCE here: without this every container fails to start in runc.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "$RUN/runc"

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "$STATE/cni/net.d"
TOML
  cat >"$STATE/cni/net.d/10-atrium.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "atrium-test",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$STATE/cni/ipam"
      }
    }
  ]
}
JSON
}

write_kubelet_config() {
  mkdir -p "$STATE/kubelet"
  cat >"$STATE/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
clusterDomain: cluster.local
clusterDNS: [$DNS_SERVICE_IP]
# No host resolv.conf for pods: names outside the cluster do not resolve (no route off the machine).
resolvConf: ""
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%}
imageGCHighThresholdPercent: 98
imageGCLowThresholdPercent: 95
serializeImagePulls: false
podLogsDir: $STATE/pod-logs
YAML
}

write_kube_proxy_config() {
  mkdir -p "$STATE/kube-proxy"
  cat >"$STATE/kube-proxy/config.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $PKI/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
clusterCIDR: $CLUSTER_CIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# NodePorts answer on loopback and the bridge only, never on the uplink.
nodePortAddresses: [127.0.0.0/8, $NODE_IP/32]
iptables: {localhostNodePorts: true}
# Zero: leave the host's conntrack limits and timeouts alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
}

# The API server's audit log records every write the cluster admin's credentials make (what
# tests count: a no-op deploy must make none); reads and everyone else are not recorded.
AUDIT_LOG=$LOGS/audit.log
write_audit_policy() {
  mkdir -p "$STATE/apiserver" "$LOGS"
  cat >"$STATE/apiserver/audit-policy.yaml" <<YAML
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    users: [atrium-test-admin]
    verbs: [create, update, patch, delete, deletecollection]
  - level: None
YAML
}
