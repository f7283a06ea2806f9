// What each error code means for the operator: a title and what to do next. The message
// from the core says what happened; this says how to respond.
import type { ErrorCode } from "./bindings";

export interface Guidance {
  title: string;
  todo: string;
  /** Dangerous situations get a stronger treatment than ordinary failures. */
  severity: "danger" | "error";
}

const GUIDANCE: Record<ErrorCode, Guidance> = {
  host_key_mismatch: {
    title: "The host key does not match",
    todo:
      "The server presented a different key than the one pinned for it. This can mean the host was rebuilt or re-keyed — or that someone is impersonating it. Shipshape stopped before sending your key. Compare the offered fingerprint with the one in the EC2 console's system log (or ask whoever rebuilt the host) before re-pinning.",
    severity: "danger",
  },
  host_key_unknown: {
    title: "This host is not trusted yet",
    todo: "Compare the fingerprint below with the one in the EC2 console output, then pin it.",
    severity: "error",
  },
  auth_rejected: {
    title: "The server refused your key",
    todo: "Add this target's public key to ~/.ssh/authorized_keys for the user on the host.",
    severity: "error",
  },
  name_not_resolved: { title: "Host name not found", todo: "Check the target's host name or IP address.", severity: "error" },
  connection_refused: {
    title: "Connection refused",
    todo: "Check that sshd is running on the host and that the port is right.",
    severity: "error",
  },
  timeout: {
    title: "No answer in time",
    todo: "Shipshape gave up waiting and ended the command on the host. Check the network path (VPN, security group) or whether Docker on the host responds, then reconnect and try again.",
    severity: "error",
  },
  connection_lost: {
    title: "Connection lost",
    todo: "Reconnect. If a change was running, check the service status before running it again: it may or may not have finished on the host.",
    severity: "error",
  },
  busy: {
    title: "Another change is running",
    todo: "Wait for it to finish (or stop it), then try again. One change runs on a target at a time.",
    severity: "error",
  },
  settings_damaged: {
    title: "The settings file is damaged",
    todo: "Shipshape will not change it, so nothing is lost. Repair the line named above in a text editor, or move the file aside to start afresh, then reopen Shipshape.",
    severity: "danger",
  },
  keyring_unavailable: {
    title: "The OS keyring is not available",
    todo: "Unlock your keyring or start your desktop's Secret Service, then restart Shipshape.",
    severity: "error",
  },
  key_not_found: { title: "Key not in the keyring", todo: "Import or generate the key on the Keys screen.", severity: "error" },
  key_invalid: { title: "The key could not be read", todo: "Check that the file is an OpenSSH private key.", severity: "error" },
  passphrase_required: { title: "This key needs its passphrase", todo: "Enter the passphrase, then import again.", severity: "error" },
  passphrase_wrong: { title: "Wrong passphrase", todo: "Check the passphrase and try again.", severity: "error" },
  target_not_found: { title: "Unknown target", todo: "Pick a target from the list.", severity: "error" },
  bad_input: { title: "That input is not valid", todo: "Correct the highlighted value and try again.", severity: "error" },
  remote_failed: {
    title: "The command failed on the host",
    todo: "Read the output below; nothing else was run.",
    severity: "error",
  },
  storage: { title: "Could not use a local file", todo: "Check the file named below and its permissions.", severity: "error" },
  protocol: { title: "SSH error", todo: "Try again; if it persists, check the host's sshd log.", severity: "error" },
};

export function guidanceFor(code: ErrorCode): Guidance {
  return GUIDANCE[code];
}
