/** The openssl arguments of the self-signed certificate every target makes for `host` (10 years, RSA 2048). */
export function selfSignedCertArgs(host: string, keyFile: string, certFile: string): string[] {
  return [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "3650",
    "-subj",
    `/CN=${host}`,
    "-addext",
    `subjectAltName=DNS:${host},DNS:localhost,IP:127.0.0.1`,
    "-keyout",
    keyFile,
    "-out",
    certFile,
  ];
}
