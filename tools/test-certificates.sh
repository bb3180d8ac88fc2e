#!/usr/bin/env bash
# Makes the test certificates shipped in src/server/certificates/ (feature
# `tls`): a test CA and a server certificate it issued for localhost,
# 127.0.0.1 and ::1, and the same pair again from a second CA that no client
# is given (`tls_untrusted()`). ECDSA P-256 keys, valid from 2025-01-01 to
# 2075-01-01: every fixture presents them, so no certificate is made at run
# time (rcgen is only in feature `tls-generate`). The keys are public:
# nothing outside a test may trust these CAs.
#
#   bash tools/test-certificates.sh     # rewrites the PEM files
set -euo pipefail
cd "$(dirname "$0")/../src/server/certificates"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
START=20250101000000Z
END=20750101000000Z

# `openssl ca` is the one openssl 3.0 command that takes explicit dates.
sign() { # csr out extensions-section issuer-cert issuer-key [-selfsign]
    : >"$work/index.txt"
    cat >"$work/ca.cnf" <<CNF
[ca]
default_ca = test
[test]
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
[ca_ext]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
authorityKeyIdentifier = keyid
CNF
    openssl rand -hex 16 >"$work/serial"
    openssl ca -batch -notext -config "$work/ca.cnf" -in "$1" -out "$2" -extensions "$3" \
        -cert "$4" -keyfile "$5" -startdate "$START" -enddate "$END" "${@:6}" 2>/dev/null
}
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

ca() { # common-name prefix
    key "$work/$2-key.pem"
    openssl req -new -key "$work/$2-key.pem" -subj "/CN=$1" -out "$work/$2.csr"
    sign "$work/$2.csr" "$2.pem" ca_ext "$2.pem" "$work/$2-key.pem" -selfsign
}
leaf() { # issuer-prefix prefix
    key "$2-key.pem"
    openssl req -new -key "$2-key.pem" -subj "/CN=localhost" -out "$work/$2.csr"
    sign "$work/$2.csr" "$2.pem" server_ext "$1.pem" "$work/$1-key.pem"
}
ca "smtp-fixture test CA" test-ca
leaf test-ca server
ca "smtp-fixture untrusted CA" untrusted-ca
leaf untrusted-ca untrusted-server
for f in test-ca server untrusted-ca untrusted-server; do
    openssl x509 -in "$f.pem" -noout -subject -issuer -dates -ext subjectAltName,basicConstraints
done
openssl verify -CAfile test-ca.pem server.pem
openssl verify -CAfile untrusted-ca.pem untrusted-server.pem
