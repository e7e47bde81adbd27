/** OpenSSH client options shared by the SSH tests and benchmark. */

/** No host-key prompts or noise: every test platform has a fresh host key. */
export const SSH_QUIET = [
  "-o",
  "StrictHostKeyChecking=no",
  "-o",
  "UserKnownHostsFile=/dev/null",
  "-o",
  "LogLevel=ERROR",
];

/** Log in with a password (a hub token) only, asked once. */
export const SSH_BY_PASSWORD = [
  "-o",
  "PubkeyAuthentication=no",
  "-o",
  "PreferredAuthentications=password",
  "-o",
  "NumberOfPasswordPrompts=1",
];
