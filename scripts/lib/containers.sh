# Containers on these machines: podman, buildah and runc from Debian, the OCI runtime named on
# every call (`podman --runtime runc`), no default ulimits (the sandbox refuses to raise them),
# host networking. Shared by scripts/image and scripts/deploy-check.
# shellcheck shell=bash

ensure_containers() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v buildah >/dev/null || missing+=(buildah)
  command -v runc >/dev/null || [ -x /usr/sbin/runc ] || missing+=(runc)
  command -v strip >/dev/null || missing+=(binutils)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (apt-get)"
    apt_install "${missing[@]}"
  fi
  local conf=/etc/containers/containers.conf
  if [ ! -f "$conf" ]; then
    as_root mkdir -p /etc/containers
    printf '[containers]\ndefault_ulimits = []\n' | as_root tee "$conf" >/dev/null
  elif ! grep -q '^[[:space:]]*default_ulimits' "$conf"; then
    if grep -q '^\[containers\]' "$conf"; then
      as_root sed -i 's/^\[containers\]$/[containers]\ndefault_ulimits = []/' "$conf"
    else
      printf '\n[containers]\ndefault_ulimits = []\n' | as_root tee -a "$conf" >/dev/null
    fi
  fi
}

podman_() { podman --runtime runc "$@"; }
