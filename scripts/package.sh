#!/usr/bin/env bash
# Packs the release .wasm into an OCI image that Istio's agent (WasmPlugin `url: oci://...`)
# and Envoy Gateway (EnvoyExtensionPolicy `wasm.code.image`) pull, and optionally pushes it.
#
# The format is the *compat* variant of the Wasm image specification
# (https://github.com/solo-io/wasm/blob/master/spec/spec-compat.md): an OCI image manifest
# with a standard image config and exactly one `application/vnd.oci.image.layer.v1.tar+gzip`
# layer, a tar holding `plugin.wasm`, and the manifest annotation
# `module.wasm.image/variant=compat`. Both fetchers try this variant first (istio/istio
# pkg/wasm/imagefetcher.go and envoyproxy/gateway internal/wasm/imagefetcher.go,
# `extractOCIStandardImage`): they take the image's last layer, gunzip it and read the entry
# named plugin.wasm. The other ("oci") variant, with `application/vnd.module.wasm.*` media
# types, is read by both only when the image has exactly two layers
# (`extractOCIArtifactImage`), which a one-layer `oras push` does not give.
#
# Reproducible: the same .wasm gives the same image digest every time (tar entry with fixed
# owner, mode and mtime; image config and history with a fixed creation time, the Unix epoch).
#
# Istio's WasmPlugin `sha256` and Envoy Gateway's `image.sha256`, for an OCI image, are
# compared with the digest of the image manifest (its hex, without `sha256:`), not with the
# module's hash (istio/istio pkg/wasm/cache.go `getOrFetch`; envoyproxy/gateway
# internal/wasm/cache.go).
#
# Tools (Debian 12 packages, installed by scripts/lib.sh `setup`): umoci builds the image in an
# OCI image layout, skopeo pushes it.
source "$(dirname "$0")/lib.sh"

usage() {
  cat <<EOF
usage: scripts/package.sh [--wasm FILE] [--out DIR] [--tag TAG] [--push REGISTRY/REPO:TAG [--insecure]]

Builds the release filter ($WASM) and packs it into an OCI image
(the compat variant of the Wasm image specification) in an OCI image layout; prints the image
digest, the module's SHA-256 and size. Run it twice: the digest is the same.

  --wasm FILE   pack this module instead of building the release one (nothing is built)
  --out DIR     the OCI image layout to write (default: target/oci/iatp-filter); an existing
                one is replaced, any other non-empty directory is refused
  --tag TAG     the image's tag in the layout (default: the workspace version, $(version))
  --push REF    push the image to REF (REGISTRY/REPO:TAG, e.g. ghcr.io/OWNER/iatp-filter:0.1.0)
                and print it by digest (REGISTRY/REPO@sha256:...). Credentials: skopeo's, e.g.
                \`skopeo login ghcr.io\` first.
  --insecure    plain HTTP (or TLS without verification) for the push; loopback registries
                only (127.0.0.1, localhost, [::1])
EOF
}

# The workspace version (Cargo.toml [workspace.package] version).
version() {
  sed -n 's/^version = "\([^"]*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n 1
}

die() {
  echo "package.sh: $*" >&2
  exit 1
}

wasm=""
out="$ROOT/target/oci/iatp-filter"
tag=""
push=""
insecure=false
while [ $# -gt 0 ]; do
  case "$1" in
    --wasm) [ $# -ge 2 ] || { usage >&2; exit 2; }; wasm="$(realpath -m -- "$2")"; shift 2 ;;
    --out) [ $# -ge 2 ] || { usage >&2; exit 2; }; out="$(realpath -m -- "$2")"; shift 2 ;;
    --tag) [ $# -ge 2 ] || { usage >&2; exit 2; }; tag="$2"; shift 2 ;;
    --push) [ $# -ge 2 ] || { usage >&2; exit 2; }; push="$2"; shift 2 ;;
    --insecure) insecure=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "package.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$tag" ] || tag="$(version)"
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$ ]] || die "not a valid tag: $tag"

registry=""
if [ -n "$push" ]; then
  # REGISTRY/REPO:TAG with an explicit registry host (a name without one would mean Docker
  # Hub to skopeo): the first path element has a dot or a colon, or is localhost.
  [[ "$push" =~ ^([^/]+)/([a-z0-9]+([._/-][a-z0-9]+)*):([A-Za-z0-9_][A-Za-z0-9._-]{0,127})$ ]] ||
    die "--push wants REGISTRY/REPO:TAG (e.g. ghcr.io/owner/iatp-filter:0.1.0), got: $push"
  registry="${BASH_REMATCH[1]}"
  [[ "$registry" == *.* || "$registry" == *:* || "$registry" == localhost ]] ||
    die "--push: $registry is not a registry host (REGISTRY/REPO:TAG)"
fi
if $insecure; then
  [ -n "$push" ] || die "--insecure goes with --push"
  case "$registry" in
    127.0.0.1 | 127.0.0.1:* | localhost | localhost:* | "[::1]" | "[::1]:"*) ;;
    *) die "--insecure is for loopback registries only, not $registry" ;;
  esac
fi

if [ -n "$wasm" ]; then
  [ -f "$wasm" ] || die "no such file: $wasm"
  apt_install_missing "${PACKAGING_TOOLS[@]}"
else
  setup
  build
  wasm="$WASM"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The layer: one regular file, plugin.wasm (the name both fetchers look for), in a ustar
# archive (no extended headers, hence no access or change times) with fixed owner, mode and
# mtime, so that its bytes depend on the module only. umoci gzips it (the layer media type
# application/vnd.oci.image.layer.v1.tar+gzip) and records its uncompressed digest in the
# config's rootfs.diff_ids.
cp -- "$wasm" "$work/plugin.wasm"
tar --create --file "$work/layer.tar" --directory "$work" --format=ustar \
  --owner=0 --group=0 --numeric-owner --mode=0444 --mtime=@0 plugin.wasm

# --out is replaced only when it is an image layout (a previous run's: it holds `oci-layout`),
# an empty directory, or absent: `--out .` must not delete a repository. The layout is built
# apart and moved in at the end, so a failure leaves the previous one as it was.
if [ -e "$out" ] && [ ! -f "$out/oci-layout" ] && [ -n "$(ls -A -- "$out" 2>/dev/null || echo x)" ]; then
  die "--out $out exists and is not an OCI image layout (no oci-layout file): not replacing it"
fi
epoch="1970-01-01T00:00:00Z"
final="$out"
out="$work/layout"
say "packing $wasm into the OCI image layout $final:$tag (umoci)"
umoci init --layout "$out"
umoci new --image "$out:$tag"
# os/architecture: the OCI image spec takes Go's GOOS/GOARCH values; a wasm32-wasip1 module
# is Go's wasip1/wasm (https://github.com/opencontainers/image-spec/blob/main/config.md).
# Neither fetcher looks at them: they read a single image manifest, not an index.
umoci config --image "$out:$tag" --no-history --created "$epoch" \
  --os wasip1 --architecture wasm \
  --manifest.annotation module.wasm.image/variant=compat
umoci raw add-layer --image "$out:$tag" --history.created "$epoch" \
  --history.created_by "scripts/package.sh: plugin.wasm (Wasm image specification, compat variant)" \
  "$work/layer.tar"
umoci gc --layout "$out"
mkdir -p -- "$(dirname -- "$final")"
rm -rf -- "$final"
mv -- "$out" "$final"
out="$final"

# The image digest is the SHA-256 of the manifest's bytes, as skopeo reads them back.
digest="sha256:$(skopeo inspect --raw "oci:$out:$tag" | sha256sum | cut -d' ' -f1)"
module_sha="$(sha256sum "$wasm" | cut -d' ' -f1)"
echo "image: oci:$out:$tag"
echo "image digest: $digest"
echo "module sha256: $module_sha"
echo "module size: $(wc -c <"$wasm") bytes"

if [ -n "$push" ]; then
  say "pushing to $push (skopeo)"
  tls=()
  $insecure && tls=(--dest-tls-verify=false)
  # --preserve-digests: skopeo fails rather than push a converted (re-digested) manifest.
  skopeo copy --quiet --preserve-digests "${tls[@]}" --digestfile "$work/pushed" \
    "oci:$out:$tag" "docker://$push"
  pushed="$(cat "$work/pushed")"
  [ "$pushed" = "$digest" ] || die "the registry has $pushed, the layout $digest"
  echo "pushed: ${push%:*}@$pushed"
fi
