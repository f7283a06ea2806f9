#!/usr/bin/env bash
# The lab: a stand-in for the production EC2 host, on loopback.
#
# Why it exists: every test, demo and newcomer needs a host that behaves like the policy's
# production box (sshd, Docker with compose v2, the project as a git clone, four services in
# the `aws` profile) without touching any real network. Everything here comes from Debian
# packages; images are built locally and served by a registry on 127.0.0.1, so
# `docker compose --profile aws pull` is real.
#
# Usage: tests/lab/lab.sh up | reset | down | status | env
#   up      install what is missing, start everything, (re)write lab.json; idempotent
#   reset   up, from the seed: the project, its origin, the registry's images and the
#           authorized keys as on a fresh machine (tests/run-all.sh starts with it)
#   down    stop the services, sshd, registry and the Docker engine the lab started
#   status  one line per part; exit 0 when all is up
#   env     print shell exports describing the lab (SHIPSHAPE_LAB=...)
#
# Needs root (it installs packages, creates the `ubuntu` user, starts daemons).
set -euo pipefail

LAB_DIR=${SHIPSHAPE_LAB_DIR:-/var/lib/shipshape-lab}
SSH_PORT=${SHIPSHAPE_LAB_SSH_PORT:-2222}
# A second sshd for the same host with another host key: "the host after a rebuild" (or an
# impostor). Tests of changed host keys and of first-contact trust use it.
REBUILT_PORT=${SHIPSHAPE_LAB_REBUILT_PORT:-2223}
# The same host seen through a login whose PATH hides the compose v2 plugin: a host with
# only docker-compose v1 (Debian 12's 1.29), for the v1 code paths.
V1_PORT=${SHIPSHAPE_LAB_V1_PORT:-2224}
HOSTILE_PORT=${SHIPSHAPE_LAB_HOSTILE_PORT:-2225}
# The same host again, reachable only through bastions: a network namespace whose one
# link to this machine is a veth pair (10.231.0.1 here, 10.231.0.2 there). The bastion
# listens there; a second bastion and the hidden target listen on the namespace's own
# loopback, which nothing outside the namespace can reach.
DMZ_NS=shipshape-dmz
DMZ_LINK=shipshape-dmz0
BASTION_ADDR=10.231.0.2
BASTION_PORT=22
INNER_BASTION_PORT=2231
BEHIND_PORT=2230
REGISTRY=127.0.0.1:${SHIPSHAPE_LAB_REGISTRY_PORT:-5000}
LAB_USER=ubuntu
PROJECT_DIR=/home/$LAB_USER/automated-trading-platform
ORIGIN_DIR=$LAB_DIR/origin.git
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Bump when the service images change: `up` rebuilds images of an older version.
LAB_IMAGE_VERSION=3

log() { printf '[lab] %s\n' "$*" >&2; }
die() { printf '[lab] error: %s\n' "$*" >&2; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts sshd and dockerd)"; }

# --- packages ---------------------------------------------------------------------------

apt_updated=0
apt_install() {
  if [ $apt_updated = 0 ]; then apt-get update -qq; apt_updated=1; fi
  log "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  command -v ssh-keygen >/dev/null || missing+=(openssh-client)
  # The images need the static build: a dynamic busybox would not run inside them.
  dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "install ok installed" || missing+=(busybox-static)
  command -v git >/dev/null || missing+=(git)
  [ -x /usr/bin/docker-compose ] || missing+=(docker-compose)
  command -v curl >/dev/null || missing+=(curl)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v ip >/dev/null || missing+=(iproute2)
  ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
}

# Debian 12 ships no compose v2 plugin; Debian 13's package carries one. Fetch it with apt
# pointed at a private state dir (the machine's own apt sources stay untouched), using the
# mirror this machine is already configured with.
ensure_compose_v2() {
  docker compose version >/dev/null 2>&1 && return 0
  log "installing the docker compose v2 plugin from Debian 13's docker-compose package"
  local mirror work
  mirror=$(grep -hoE '^URIs: *[^ ]+' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 | awk '{print $2}')
  [ -n "$mirror" ] || mirror=$(grep -hoE '^deb +[^ ]+' /etc/apt/sources.list 2>/dev/null | grep -v security | head -n1 | awk '{print $2}')
  [ -n "$mirror" ] || die "no Debian mirror found in /etc/apt sources"
  work=$(mktemp -d)
  mkdir -p "$work"/etc/sources.list.d "$work"/state/lists/partial "$work"/cache/archives/partial
  printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$mirror" >"$work/etc/sources.list.d/trixie.sources"
  local opts=(-o "Dir::Etc=$work/etc" -o Dir::Etc::sourcelist=/dev/null
    -o "Dir::Etc::sourceparts=$work/etc/sources.list.d" -o "Dir::State=$work/state"
    -o "Dir::Cache=$work/cache" -o Dir::State::status=/dev/null -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update -qq
  (cd "$work" && apt-get "${opts[@]}" download docker-compose >/dev/null 2>&1)
  dpkg-deb -x "$work"/docker-compose_*.deb "$work/x"
  install -D -m 755 "$work/x/usr/libexec/docker/cli-plugins/docker-compose" \
    /usr/local/lib/docker/cli-plugins/docker-compose
  rm -rf "$work"
  docker compose version >/dev/null || die "compose v2 plugin did not install"
}

# --- daemons ----------------------------------------------------------------------------

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
pid_gone() { ! pid_alive "$1"; }

wait_for() { # seconds, description, command...
  local n=$1 what=$2; shift 2
  for _ in $(seq $((n * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  die "$what did not come up (see $LAB_DIR/*.log)"
}

ensure_dockerd() {
  docker info >/dev/null 2>&1 && return 0
  log "starting the Docker engine (log: $LAB_DIR/dockerd.log)"
  setsid nohup dockerd >"$LAB_DIR/dockerd.log" 2>&1 </dev/null &
  echo $! >"$LAB_DIR/dockerd.pid"
  wait_for 60 dockerd docker info
}

ensure_registry() {
  curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1 && return 0
  mkdir -p "$LAB_DIR/registry"
  cat >"$LAB_DIR/registry.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $LAB_DIR/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY
log:
  level: warn
EOF
  log "starting the image registry on $REGISTRY"
  setsid nohup docker-registry serve "$LAB_DIR/registry.yml" >"$LAB_DIR/registry.log" 2>&1 </dev/null &
  echo $! >"$LAB_DIR/registry.pid"
  wait_for 20 registry curl -fsS "http://$REGISTRY/v2/"
}

ensure_user() {
  if ! id "$LAB_USER" >/dev/null 2>&1; then
    log "creating user $LAB_USER"
    useradd -m -s /bin/bash "$LAB_USER"
  fi
  # '*' rather than the locked '!': sshd without PAM refuses locked accounts even for keys.
  usermod -p '*' "$LAB_USER"
  getent group docker >/dev/null || groupadd docker
  usermod -aG docker "$LAB_USER"
  install -d -m 700 -o "$LAB_USER" -g "$LAB_USER" "/home/$LAB_USER/.ssh"
}

ensure_keys() {
  install -d -m 755 "$LAB_DIR/ssh"
  [ -f "$LAB_DIR/ssh/ssh_host_ed25519_key" ] ||
    ssh-keygen -q -t ed25519 -N '' -C shipshape-lab-host -f "$LAB_DIR/ssh/ssh_host_ed25519_key"
  [ -f "$LAB_DIR/ssh/ssh_host_ecdsa_key" ] ||
    ssh-keygen -q -t ecdsa -b 256 -N '' -C shipshape-lab-host -f "$LAB_DIR/ssh/ssh_host_ecdsa_key"
  [ -f "$LAB_DIR/ssh/ssh_host_rsa_key" ] ||
    ssh-keygen -q -t rsa -b 3072 -N '' -C shipshape-lab-host -f "$LAB_DIR/ssh/ssh_host_rsa_key"
  [ -f "$LAB_DIR/ssh/rebuilt_host_ed25519_key" ] ||
    ssh-keygen -q -t ed25519 -N '' -C shipshape-lab-rebuilt-host -f "$LAB_DIR/ssh/rebuilt_host_ed25519_key"
  # The operator's key for the lab, like a user's ~/.ssh/id_ed25519. Shipshape imports it
  # into the OS keyring on first run; its own data dir never holds it.
  install -d -m 700 "$LAB_DIR/client"
  [ -f "$LAB_DIR/client/id_ed25519" ] ||
    ssh-keygen -q -t ed25519 -N '' -C shipshape-lab-operator -f "$LAB_DIR/client/id_ed25519"
  if [ -n "${SUDO_USER:-}" ]; then chown -R "$SUDO_USER" "$LAB_DIR/client"; fi
  local auth=/home/$LAB_USER/.ssh/authorized_keys
  touch "$auth"
  grep -qF "$(cut -d' ' -f2 "$LAB_DIR/client/id_ed25519.pub")" "$auth" || cat "$LAB_DIR/client/id_ed25519.pub" >>"$auth"
  chown "$LAB_USER:$LAB_USER" "$auth"
  chmod 600 "$auth"
}

# SSHD_LISTEN and SSHD_NETNS place an sshd elsewhere than this machine's loopback.
start_sshd() { # name port host-key [extra config line]
  local name=$1 port=$2 key=$3 extra=${4:-} listen=${SSHD_LISTEN:-127.0.0.1} ns=${SSHD_NETNS:-}
  local in_ns=()
  [ -z "$ns" ] || in_ns=(ip netns exec "$ns")
  mkdir -p /run/sshd
  chmod 755 "$LAB_DIR"
  cat >"$LAB_DIR/$name.conf.new" <<EOF
# The lab's own sshd: loopback (or the lab's namespace) only, keys only, one user.
# ${ns:+In network namespace $ns.}
Port $port
ListenAddress $listen
HostKey $key
PidFile $LAB_DIR/$name.pid
AllowUsers $LAB_USER
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
# DEBUG1 logs every userauth request: tests read it to prove none was made.
LogLevel DEBUG1
MaxStartups 100:30:200
Subsystem sftp internal-sftp
$extra
EOF
  # A running sshd is kept only if it runs this very configuration (an older lab's
  # sshd, with fewer host keys say, is restarted).
  if pid_alive "$LAB_DIR/$name.pid"; then
    if cmp -s "$LAB_DIR/$name.conf.new" "$LAB_DIR/$name.conf"; then
      rm -f "$LAB_DIR/$name.conf.new"
      return 0
    fi
    log "restarting $name: its configuration changed"
    kill "$(cat "$LAB_DIR/$name.pid")"
    wait_for 10 "$name to stop" pid_gone "$LAB_DIR/$name.pid"
  fi
  mv "$LAB_DIR/$name.conf.new" "$LAB_DIR/$name.conf"
  # A new sshd, a new log: an earlier one's (debug level, ~100,000 lines a suite) serves
  # no test, which each read it from where it stood when they began.
  : >"$LAB_DIR/$name.log"
  log "starting $name on $listen:$port${ns:+ in namespace $ns} (log: $LAB_DIR/$name.log)"
  /usr/sbin/sshd -t -f "$LAB_DIR/$name.conf"
  "${in_ns[@]}" /usr/sbin/sshd -f "$LAB_DIR/$name.conf" -E "$LAB_DIR/$name.log"
  wait_for 10 "$name" pid_alive "$LAB_DIR/$name.pid"
}

ensure_sshd() {
  # The host holds three keys, as an EC2 host does; ed25519 is the one clients prefer.
  start_sshd sshd "$SSH_PORT" "$LAB_DIR/ssh/ssh_host_ed25519_key" \
    "HostKey $LAB_DIR/ssh/ssh_host_ecdsa_key"$'\n'"HostKey $LAB_DIR/ssh/ssh_host_rsa_key"
  start_sshd sshd-rebuilt "$REBUILT_PORT" "$LAB_DIR/ssh/rebuilt_host_ed25519_key"
  install -d -m 755 "$LAB_DIR/v1-bin"
  local real_docker
  real_docker=$(PATH=/usr/local/bin:/usr/bin:/bin command -v docker)
  cat >"$LAB_DIR/v1-bin/docker" <<EOF
#!/bin/sh
# The lab's v1-only login: docker without its compose v2 plugin.
if [ "\$1" = compose ]; then echo "docker: 'compose' is not a docker command." >&2; exit 1; fi
exec $real_docker "\$@"
EOF
  chmod 755 "$LAB_DIR/v1-bin/docker"
  start_sshd sshd-v1 "$V1_PORT" "$LAB_DIR/ssh/ssh_host_ed25519_key" \
    "SetEnv PATH=$LAB_DIR/v1-bin:/usr/local/bin:/usr/bin:/bin"
  # The hostile host: the same host, but docker, git and curl answer with garbage when
  # $LAB_DIR/hostile-mode says so (tests/lab/hostile/shim.sh).
  install -d -m 755 "$LAB_DIR/hostile-bin"
  local tool
  for tool in docker git curl; do
    install -m 755 "$HERE/hostile/shim.sh" "$LAB_DIR/hostile-bin/$tool"
  done
  # Polite until a test says otherwise: a mode left by a run cut short is cleared.
  install -m 644 /dev/null "$LAB_DIR/hostile-mode"
  # Its sshd also forbids socket forwarding, so the engine is read by those commands.
  start_sshd sshd-hostile "$HOSTILE_PORT" "$LAB_DIR/ssh/ssh_host_ed25519_key" \
    "SetEnv PATH=$LAB_DIR/hostile-bin:/usr/local/bin:/usr/bin:/bin
AllowStreamLocalForwarding no"
}

# The namespace and its veth pair; nothing routes beyond the /30 between the two ends.
ensure_dmz() {
  ip netns list | grep -qw "$DMZ_NS" || ip netns add "$DMZ_NS"
  if ! ip link show "$DMZ_LINK" >/dev/null 2>&1; then
    ip link add "$DMZ_LINK" type veth peer name eth0 netns "$DMZ_NS"
    ip addr add 10.231.0.1/30 dev "$DMZ_LINK"
    ip -n "$DMZ_NS" addr add "$BASTION_ADDR/30" dev eth0
  fi
  ip link set "$DMZ_LINK" up
  ip -n "$DMZ_NS" link set lo up
  ip -n "$DMZ_NS" link set eth0 up
}

# A bastion has its own host key and lets the lab user forward (and nothing else: no
# shell is needed there, but sshd's defaults give one; the lab keeps them).
ensure_bastions() {
  ensure_dmz
  local name
  for name in bastion inner_bastion; do
    [ -f "$LAB_DIR/ssh/${name}_host_ed25519_key" ] ||
      ssh-keygen -q -t ed25519 -N '' -C "shipshape-lab-$name" -f "$LAB_DIR/ssh/${name}_host_ed25519_key"
  done
  SSHD_NETNS=$DMZ_NS SSHD_LISTEN=$BASTION_ADDR start_sshd sshd-bastion "$BASTION_PORT" \
    "$LAB_DIR/ssh/bastion_host_ed25519_key" "AllowTcpForwarding yes"
  SSHD_NETNS=$DMZ_NS start_sshd sshd-inner-bastion "$INNER_BASTION_PORT" \
    "$LAB_DIR/ssh/inner_bastion_host_ed25519_key" "AllowTcpForwarding yes"
  SSHD_NETNS=$DMZ_NS start_sshd sshd-behind "$BEHIND_PORT" "$LAB_DIR/ssh/ssh_host_ed25519_key"
}

# --- images -----------------------------------------------------------------------------

# One busybox root file system, imported once per service with its own command, so each
# service has an image (and digest) of its own in the registry.
images_changed=0
build_images() {
  local tag=${1:-lab}
  if [ "$tag" = lab ] && [ "$(docker image inspect -f '{{index .Config.Labels "shipshape.lab.version"}}' \
    "$REGISTRY/atp/backend:lab" 2>/dev/null)" = "$LAB_IMAGE_VERSION" ] &&
    curl -fsS "http://$REGISTRY/v2/atp/market-updater/tags/list" 2>/dev/null | grep -q '"lab"'; then
    return 0
  fi
  images_changed=1
  log "building the service images from busybox and pushing them to $REGISTRY (tag $tag)"
  local root
  root=$(mktemp -d)
  mkdir -p "$root"/{bin,etc,tmp,www/api,srv/www,usr/local/bin,var/log}
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf '{"status":"ok","service":"backend-aws","build":"%s"}\n' "$tag" >"$root/www/api/health"
  printf '<!doctype html><title>Automated Trading Platform</title><h1>ATP lab frontend (%s)</h1>\n' "$tag" >"$root/srv/www/index.html"
  install -m 755 "$HERE/images/gunicorn" "$HERE/images/market-updater" "$HERE/images/postgres" \
    "$HERE/images/next-start" "$HERE/images/python" "$root/usr/local/bin/"
  local image cmd
  for spec in 'backend:["/usr/local/bin/gunicorn","app.main:app","--workers","2","--bind","0.0.0.0:8002"]' \
    'frontend:["/usr/local/bin/next-start"]' 'db:["/usr/local/bin/postgres"]' \
    'market-updater:["/usr/local/bin/market-updater"]'; do
    image=${spec%%:*}
    cmd=${spec#*:}
    tar -C "$root" -c . | docker import -c "CMD $cmd" -c 'ENV PATH=/usr/local/bin:/bin' \
      -c "LABEL shipshape.lab.version=$LAB_IMAGE_VERSION" \
      - "$REGISTRY/atp/$image:$tag" >/dev/null
    docker push -q "$REGISTRY/atp/$image:$tag" >/dev/null
  done
  rm -rf "$root"
}

# --- project ----------------------------------------------------------------------------

as_user() { runuser -u "$LAB_USER" -- "$@"; }

ensure_project() {
  if [ ! -d "$ORIGIN_DIR" ]; then
    log "creating the project's git origin at $ORIGIN_DIR"
    install -d -o "$LAB_USER" -g "$LAB_USER" "$ORIGIN_DIR"
    as_user git init -q --bare -b main "$ORIGIN_DIR"
    local seed
    seed=$(as_user mktemp -d)
    cp -r "$HERE/project/." "$seed/"
    sed -i "s#@REGISTRY@#$REGISTRY#g" "$seed/docker-compose.yml"
    chown -R "$LAB_USER:$LAB_USER" "$seed"
    (cd "$seed" && as_user git init -q -b main &&
      as_user git -c user.name='Lab Seed' -c user.email=lab@example.invalid add -A &&
      as_user git -c user.name='Lab Seed' -c user.email=lab@example.invalid commit -q -m 'Seed the lab project' &&
      as_user git push -q "$ORIGIN_DIR" main)
    rm -rf "$seed"
  fi
  if [ ! -d "$PROJECT_DIR/.git" ]; then
    log "cloning the project into $PROJECT_DIR"
    as_user git clone -q "$ORIGIN_DIR" "$PROJECT_DIR"
  fi
  update_project_files
  if [ ! -f "$PROJECT_DIR/.env.aws" ]; then
    install -m 600 -o "$LAB_USER" -g "$LAB_USER" "$HERE/env.aws.example" "$PROJECT_DIR/.env.aws"
  fi
}

# A lab made by an older version of this script gets the seed's current compose file as a
# commit on its origin, pulled into the project, so old labs keep matching the tests.
project_changed=0
update_project_files() {
  local rendered
  rendered=$(mktemp -d)
  cp -r "$HERE/project/." "$rendered/"
  sed -i "s#@REGISTRY@#$REGISTRY#g" "$rendered/docker-compose.yml"
  local stale=0 file
  while IFS= read -r file; do
    cmp -s "$rendered/$file" "$PROJECT_DIR/$file" || stale=1
  done < <(cd "$rendered" && find . -type f | sed 's#^\./##')
  if [ "$stale" = 0 ]; then rm -rf "$rendered"; return 0; fi
  log "updating the lab project's files from the seed (a commit on its origin)"
  local work
  work=$(as_user mktemp -d)
  as_user git clone -q "$ORIGIN_DIR" "$work/p"
  chmod -R a+rX "$rendered"
  as_user cp -r "$rendered/." "$work/p/"
  rm -rf "$rendered"
  (cd "$work/p" && as_user git add -A &&
    as_user git -c user.name='Lab Seed' -c user.email=lab@example.invalid commit -q -m 'Lab: update the project from its seed' &&
    as_user git push -q origin main)
  rm -rf "$work"
  (cd "$PROJECT_DIR" && as_user git pull -q --ff-only origin main)
  project_changed=1
}

compose() { (cd "$PROJECT_DIR" && as_user docker compose --profile aws "$@"); }

# Every container of the project, whatever profile or compose file made it, found by the
# label compose sets: works even when the project directory is gone.
remove_project_containers() {
  local ids
  ids=$(docker ps -aq --filter "label=com.docker.compose.project=$(basename "$PROJECT_DIR")")
  if [ -n "$ids" ]; then docker rm -f $ids >/dev/null; fi
}

ensure_services() {
  local running
  running=$(compose ps --status running --services 2>/dev/null | wc -l)
  [ "$running" -ge 4 ] && [ "$project_changed" = 0 ] && [ "$images_changed" = 0 ] && return 0
  log "starting the project's services (docker compose --profile aws up -d)"
  compose up -d --quiet-pull >/dev/null 2>&1 || compose up -d
}

fingerprint_of() { ssh-keygen -l -E sha256 -f "$1" | awk '{print $2}'; }

write_descriptor() {
  cat >"$LAB_DIR/lab.json" <<EOF
{
  "name": "Local lab",
  "host": "127.0.0.1",
  "port": $SSH_PORT,
  "user": "$LAB_USER",
  "project_dir": "$PROJECT_DIR",
  "host_key_fingerprint": "$(fingerprint_of "$LAB_DIR/ssh/ssh_host_ed25519_key.pub")",
  "host_key_type": "ssh-ed25519",
  "ecdsa_host_key_fingerprint": "$(fingerprint_of "$LAB_DIR/ssh/ssh_host_ecdsa_key.pub")",
  "rsa_host_key_fingerprint": "$(fingerprint_of "$LAB_DIR/ssh/ssh_host_rsa_key.pub")",
  "rebuilt_port": $REBUILT_PORT,
  "v1_port": $V1_PORT,
  "hostile_port": $HOSTILE_PORT,
  "hostile_mode": "$LAB_DIR/hostile-mode",
  "rebuilt_host_key_fingerprint": "$(fingerprint_of "$LAB_DIR/ssh/rebuilt_host_ed25519_key.pub")",
  "authorized_keys": "/home/$LAB_USER/.ssh/authorized_keys",
  "client_key": "$LAB_DIR/client/id_ed25519",
  "registry": "$REGISTRY",
  "origin": "$ORIGIN_DIR",
  "sshd_log": "$LAB_DIR/sshd.log",
  "rebuilt_sshd_log": "$LAB_DIR/sshd-rebuilt.log",
  "bastion_host": "$BASTION_ADDR",
  "bastion_port": $BASTION_PORT,
  "bastion_host_key_fingerprint": "$(fingerprint_of "$LAB_DIR/ssh/bastion_host_ed25519_key.pub")",
  "bastion_sshd_log": "$LAB_DIR/sshd-bastion.log",
  "inner_bastion_port": $INNER_BASTION_PORT,
  "inner_bastion_host_key_fingerprint": "$(fingerprint_of "$LAB_DIR/ssh/inner_bastion_host_ed25519_key.pub")",
  "inner_bastion_sshd_log": "$LAB_DIR/sshd-inner-bastion.log",
  "behind_port": $BEHIND_PORT,
  "behind_sshd_log": "$LAB_DIR/sshd-behind.log"
}
EOF
  chmod 644 "$LAB_DIR/lab.json"
}

cmd_up() {
  need_root
  local t0=$SECONDS
  install -d -m 755 "$LAB_DIR"
  ensure_packages
  ensure_dockerd
  ensure_compose_v2
  ensure_registry
  ensure_user
  ensure_keys
  ensure_sshd
  ensure_bastions
  build_images lab
  ensure_project
  ensure_services
  write_descriptor
  log "up in $((SECONDS - t0)) s: ssh $LAB_USER@127.0.0.1 -p $SSH_PORT, project $PROJECT_DIR"
}

# What tests change (commits on origin, images in the registry, keys allowed in) is put
# back to the seed, so every suite run is a fresh machine's run and no test passes on
# what an earlier one left behind. Host keys and the client key stay: they are the lab.
cmd_reset() {
  need_root
  log "resetting the project, its origin, the registry and authorized_keys to the seed"
  # On a machine that never ran the lab, the engine's log and pid file need the dir.
  install -d -m 755 "$LAB_DIR"
  # The engine must be up first: when it starts, it restarts the project's containers
  # (restart: unless-stopped) and their bind mounts would recreate the project directory.
  ensure_packages
  ensure_dockerd
  remove_project_containers
  # A systemd unit a checklist test writes for a service of the project (a run cut off
  # before its undo leaves it, and every later deploy's preflight would refuse the host).
  for unit in /etc/systemd/system/*-aws.service; do
    [ -f "$unit" ] && grep -qx "WorkingDirectory=$PROJECT_DIR" "$unit" && rm -f "$unit"
  done
  if pid_alive "$LAB_DIR/registry.pid"; then
    kill "$(cat "$LAB_DIR/registry.pid")" 2>/dev/null || true
    for _ in $(seq 50); do pid_alive "$LAB_DIR/registry.pid" || break; sleep 0.2; done
  fi
  rm -f "$LAB_DIR/registry.pid"
  rm -rf "$ORIGIN_DIR" "$PROJECT_DIR" "$LAB_DIR/registry" "$LAB_DIR/tests.lock"
  rm -f "/home/$LAB_USER/.ssh/authorized_keys"
  cmd_up
}

cmd_down() {
  need_root
  if [ -d "$PROJECT_DIR" ] && docker info >/dev/null 2>&1; then compose down >/dev/null 2>&1 || true; fi
  for name in sshd sshd-rebuilt sshd-v1 sshd-hostile sshd-bastion sshd-inner-bastion sshd-behind registry dockerd; do
    if pid_alive "$LAB_DIR/$name.pid"; then
      log "stopping $name"
      kill "$(cat "$LAB_DIR/$name.pid")" 2>/dev/null || true
      for _ in $(seq 50); do pid_alive "$LAB_DIR/$name.pid" || break; sleep 0.2; done
    fi
    rm -f "$LAB_DIR/$name.pid"
  done
  ! ip netns list 2>/dev/null | grep -qw "$DMZ_NS" || ip netns del "$DMZ_NS"
}

cmd_status() {
  local ok=0
  check() { if "${@:2}" >/dev/null 2>&1; then printf '%-19s up\n' "$1"; else printf '%-19s down\n' "$1"; ok=1; fi; }
  check docker docker info
  check compose docker compose version
  check registry curl -fsS "http://$REGISTRY/v2/"
  check sshd pid_alive "$LAB_DIR/sshd.pid"
  check sshd-rebuilt pid_alive "$LAB_DIR/sshd-rebuilt.pid"
  check sshd-v1 pid_alive "$LAB_DIR/sshd-v1.pid"
  check sshd-hostile pid_alive "$LAB_DIR/sshd-hostile.pid"
  check sshd-bastion pid_alive "$LAB_DIR/sshd-bastion.pid"
  check sshd-inner-bastion pid_alive "$LAB_DIR/sshd-inner-bastion.pid"
  check sshd-behind pid_alive "$LAB_DIR/sshd-behind.pid"
  check compose-v1 test -x /usr/bin/docker-compose
  check project test -d "$PROJECT_DIR/.git"
  check services test "$(compose ps --status running --services 2>/dev/null | wc -l)" -ge 4
  check health curl -fsS http://127.0.0.1:8002/api/health
  return $ok
}

case "${1:-}" in
  up) cmd_up ;;
  reset) cmd_reset ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) echo "export SHIPSHAPE_LAB=$LAB_DIR/lab.json" ;;
  *) echo "usage: $0 up|reset|down|status|env" >&2; exit 2 ;;
esac
