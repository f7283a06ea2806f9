#!/usr/bin/env bash
# The secret scan, after the whole suite: no byte of the lab operator's private key and no
# secret value of the lab's .env.aws in anything Shipshape kept or showed during the run:
# the e2e runs' data dirs (settings, journal, diagnostic logs, exported reports) and what
# the core sent each e2e run's window over IPC (ipc-SPEC.json, tapped by wdio.conf.mjs),
# the host's audit log and lock holder, and the arguments of every process the lab user ran
# (sampled by tests/run-all.sh; other users of the host can read them in `ps`). The
# host's snapshots and env backups hold .env.aws copies by design (mode 0600) and are not
# scanned. Prints one row of the proving ground's table; exits 1 with each finding.
#
# usage: tests/secret-scan.sh HOST_ARGS_FILE DIR...
set -euo pipefail
lab_dir=/var/lib/shipshape-lab
user=ubuntu
project=/home/$user/automated-trading-platform
args_file=$1
shift

# What must never appear: each line of the private key's body (64 base64 characters, long
# enough never to occur by chance), the passphrase the e2e run types to import a key, the
# value it types into the env editor (written to the host on stdin, never in an argument),
# the values of .env.aws keys that look secret, and the password inside DATABASE_URL.
needles=$(mktemp)
trap 'rm -f "$needles"' EXIT
grep -v -e '^-----' "$lab_dir/client/id_ed25519" | awk 'length($0) >= 40' >>"$needles"
sed -n 's/^export const \(KEY_PASSPHRASE\|TYPED_ENV_VALUE\) = "\(.*\)";$/\2/p' "$(dirname "$0")/e2e/specs/homes.mjs" >>"$needles"
while IFS='=' read -r key value; do
  [[ $key =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
  case "${key^^}" in
  *KEY* | *SECRET* | *TOKEN* | *PASSWORD*) [ ${#value} -ge 6 ] && echo "$value" >>"$needles" ;;
  DATABASE_URL) sed -n 's|^[a-z]*://[^:]*:\([^@]*\)@.*|\1|p' <<<"$value" >>"$needles" ;;
  esac
done <"$project/.env.aws"
secrets=$(wc -l <"$needles")
# A scan that found nothing to look for, or no window's IPC to look in, proves nothing.
taps=$( (find "$@" -maxdepth 1 -name 'ipc-*.json' 2>/dev/null || true) | wc -l)
spec_homes=$( (find "$@" -maxdepth 1 -type d -name 'shipshape-e2e-*' 2>/dev/null || true) | sed 's/-[^-]*$//' | sort -u | wc -l)
if ((secrets < 5)) || ((spec_homes > 0 && taps * 2 < spec_homes)); then
  echo "| secret scan | $secrets secrets, $taps of $spec_homes e2e windows' IPC taps | FAILED: too little to scan | 1 |"
  exit 1
fi

places=("$args_file" "/home/$user/.shipshape/audit.log" "/home/$user/.shipshape/deploy.holder" "$@")
files=0
findings=()
while IFS= read -r -d '' file; do
  files=$((files + 1))
  if hit=$(grep -a -F -o -m 1 -f "$needles" "$file"); then
    hit=${hit%%$'\n'*}
    findings+=("$file holds a secret (${#hit} characters)")
  fi
done < <(find "${places[@]}" -type f -print0 2>/dev/null)

for finding in "${findings[@]}"; do echo "secret scan: $finding" >&2; done
if ((${#findings[@]})); then outcome="FAILED: ${#findings[@]} files"; else outcome="no private key byte or secret value found"; fi
echo "| secret scan: $secrets secrets sought in data dirs, journals, logs, reports, all the core sent $taps e2e windows over IPC, the host's audit log and every host process's arguments | $files files | $outcome | ${#findings[@]} |"
((${#findings[@]} == 0))
