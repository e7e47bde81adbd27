# The cluster's certificates and kubeconfigs: one CA, a serving cert for the API server and the
# kubelet, a client cert per component, the service-account key pair (sourced).

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# issue_cert NAME SUBJECT USAGE [SUBJECT_ALT_NAMES]: key and certificate NAME.{key,crt} signed by the CA.
issue_cert() {
  local name=$1 subject=$2 usage=$3 sans=${4:-} ext
  ext=$(mktemp)
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n' "$usage" >"$ext"
  [ -n "$sans" ] && printf 'subjectAltName=%s\n' "$sans" >>"$ext"
  new_key "$PKI/$name.key"
  openssl req -new -key "$PKI/$name.key" -subj "$subject" -out "$PKI/$name.csr"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 30 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$ext" "$PKI/$name.csr"
}

# write_kubeconfig NAME FILE: a kubeconfig for the client cert NAME.
write_kubeconfig() {
  local name=$1 file=$2
  (
    umask 077
    cat >"$file" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
  - name: atrium-test
    cluster:
      server: https://$NODE_IP:6443
      certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
  - name: $name
    user:
      client-certificate-data: $(base64 -w0 "$PKI/$name.crt")
      client-key-data: $(base64 -w0 "$PKI/$name.key")
contexts:
  - name: atrium-test
    context: {cluster: atrium-test, user: $name}
current-context: atrium-test
KUBECONFIG
  )
}

make_pki() {
  (umask 077 && mkdir -p "$PKI")
  new_key "$PKI/ca.key"
  openssl req -x509 -new -key "$PKI/ca.key" -subj /CN=atrium-test-cluster-ca -days 30 -out "$PKI/ca.crt"
  issue_cert apiserver /CN=kube-apiserver serverAuth \
    "IP:$NODE_IP,IP:127.0.0.1,IP:$API_SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  issue_cert kubelet-serving "/CN=system:node:$NODE_NAME" serverAuth "IP:$NODE_IP,DNS:$NODE_NAME"
  issue_cert admin /O=system:masters/CN=atrium-test-admin clientAuth
  issue_cert apiserver-kubelet-client /O=system:masters/CN=kube-apiserver-kubelet-client clientAuth
  issue_cert controller-manager /CN=system:kube-controller-manager clientAuth
  issue_cert scheduler /CN=system:kube-scheduler clientAuth
  issue_cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
  issue_cert kube-proxy /CN=system:kube-proxy clientAuth
  issue_cert kube-router /O=system:masters/CN=atrium-test-kube-router clientAuth
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key" 2>/dev/null
  openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"
  for name in admin controller-manager scheduler kubelet kube-proxy kube-router; do
    write_kubeconfig "$name" "$PKI/$name.kubeconfig"
  done
  install -m 0600 "$PKI/admin.kubeconfig" "$KUBECONFIG_ADMIN"
  chmod 0600 "$PKI"/*
}
