#!/usr/bin/env bash
# Makes a throwaway PKI in DIR for the heartbeat's TLS tests: a private CA
# (ca.pem), a server certificate it signed for 127.0.0.1 and localhost
# (server.pem, server.key), and an unrelated CA (other-ca.pem) that must NOT
# be trusted for it. Nothing here is ever installed anywhere.
set -euo pipefail
dir=${1:?usage: make_test_pki.sh DIR}
mkdir -p "$dir"
cd "$dir"
q() { openssl "$@" >/dev/null 2>&1; }
q req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=ProVision test CA" -keyout ca.key -out ca.pem
q req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=Some other CA" -keyout other-ca.key -out other-ca.pem
q req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout server.key -out server.csr
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext
q x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.pem
chmod 600 ./*.key
echo "$dir"
